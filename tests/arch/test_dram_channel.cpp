// The DRAM channel: technology transfer times, demand placement with back-filling, prefetches
// placed lazily behind the demand issued before them, the prefetch queue bound.
#include <gtest/gtest.h>

#include "arch/config.h"
#include "arch/dram_channel.h"
#include "core/error.h"

namespace bsnpu::arch {
namespace {

// 256 bits per cycle, 50 cycles of latency, no technology overheads.
DramConfig ideal(int prefetch_queue = 16) {
  DramConfig config;
  config.bandwidth.bits_per_cycle = 256;
  config.latency_cycles = 50;
  config.prefetch_queue = prefetch_queue;
  return config;
}

DramConfig technology(const char* name, double clock_mhz = 500) {
  DramConfig config;
  config.technology = dram_technology(name);
  config.bandwidth_gbytes_per_s = config.technology.peak_gbytes_per_s;
  config.bandwidth.bits_per_cycle = config.bandwidth_gbytes_per_s * 8e3 / clock_mhz;
  config.clock_mhz = clock_mhz;
  return config;
}

// Whole cycles of a request on the channel.
uint64_t transfer_cycles(const DramConfig& config, uint64_t bits, bool write) {
  constexpr uint64_t kTicks = DramConfig::kDramTicksPerCycle;
  return (config.transfer_ticks(bits, write) + kTicks - 1) / kTicks;
}

TEST(DramChannel, IdealTransfersAreBitsOverBandwidth) {
  DramChannel channel(ideal());
  const DramChannel::Grant grant = channel.demand(10, 4096, false);
  EXPECT_EQ(grant.start, 10u);
  EXPECT_EQ(grant.end, 26u);
  EXPECT_EQ(grant.done, 76u);
  EXPECT_EQ(transfer_cycles(ideal(), 257, false), 2u);
}

TEST(DramChannel, TechnologiesSustainLessThanTheirPeak) {
  for (const char* name : {"ddr4", "lpddr4", "hbm2"}) {
    const DramConfig config = technology(name);
    const uint64_t bits = uint64_t{8} << 20;  // a 1 MiB sequential stream
    const uint64_t peak_cycles =
        static_cast<uint64_t>(static_cast<double>(bits) / config.bandwidth.bits_per_cycle);
    const uint64_t cycles = transfer_cycles(config, bits, false);
    EXPECT_GT(cycles, peak_cycles) << name;
    EXPECT_LT(static_cast<double>(cycles), 1.2 * static_cast<double>(peak_cycles)) << name;
    // A write pays the bus turnaround; a small request a whole burst and a row cycle.
    EXPECT_GT(transfer_cycles(config, bits, true), cycles) << name;
    EXPECT_GE(transfer_cycles(config, 8, false), 1u) << name;
    EXPECT_GT(config.technology.pj_per_bit, 0) << name;
  }
  EXPECT_THROW(dram_technology("ddr5"), Error);
}

TEST(DramChannel, DemandBackFillsIdleTimeBeforeALaterReservation) {
  DramChannel channel(ideal());
  EXPECT_EQ(channel.demand(100, 256 * 10, false).start, 100u);  // [100, 110)
  const DramChannel::Grant early = channel.demand(0, 256 * 20, false);
  EXPECT_EQ(early.start, 0u);
  EXPECT_EQ(early.end, 20u);
  // 100 cycles of work ready at 50: [50, 100) then [110, 160).
  const DramChannel::Grant split = channel.demand(50, 256 * 100, false);
  EXPECT_EQ(split.start, 50u);
  EXPECT_EQ(split.end, 160u);
  EXPECT_EQ(channel.demand(0, 256 * 5, false).start, 20u);  // the gap [20, 50) is still idle
}

TEST(DramChannel, DemandIssuedBeforeAPrefetchIsPlacedGoesFirst) {
  DramChannel channel(ideal());
  const size_t ticket = channel.enqueue_prefetch(0, 256 * 100);  // ready at 0, not yet placed
  const DramChannel::Grant spill = channel.demand(10, 256 * 20, true);
  EXPECT_EQ(spill.start, 10u);  // not behind the prefetch
  const DramChannel::Grant prefetch = channel.prefetch(ticket);
  EXPECT_EQ(prefetch.start, 0u);  // it back-fills [0, 10), then runs after the spill
  EXPECT_EQ(prefetch.end, 120u);
  EXPECT_EQ(&channel.prefetch(ticket), &channel.prefetch(ticket));  // placed once
  EXPECT_THROW(channel.prefetch(ticket + 1), Error);
}

TEST(DramChannel, PrefetchQueueBoundsOutstandingRequests) {
  DramChannel bounded(ideal(2)), unbounded(ideal(64));
  for (DramChannel* channel : {&bounded, &unbounded}) {
    for (int i = 0; i < 4; ++i) channel->enqueue_prefetch(0, 256 * 10);
  }
  // Unbounded: back to back. Bounded at 2: prefetch 2 is ready when prefetch 0 has ended.
  EXPECT_EQ(unbounded.prefetch(3).start, 30u);
  EXPECT_EQ(bounded.prefetch(2).start, 20u);
  EXPECT_EQ(bounded.prefetch(3).start, 30u);
  // A demand ready at 0 after the placement lands after them.
  EXPECT_EQ(bounded.demand(0, 256, false).start, 40u);
}

TEST(DramChannel, ResetForgetsEverything) {
  DramChannel channel(ideal());
  channel.demand(0, 256 * 1000, false);
  channel.enqueue_prefetch(0, 256);
  channel.reset();
  EXPECT_EQ(channel.demand(0, 256, false).start, 0u);
  EXPECT_THROW(channel.prefetch(0), Error);
}

}  // namespace
}  // namespace bsnpu::arch
