// Port, the one resource primitive of the timing model: requests in order, bandwidth, latency.
#include <gtest/gtest.h>

#include "arch/port.h"

namespace bsnpu::arch {
namespace {

Bandwidth bits_per_cycle(double bits) {
  Bandwidth bandwidth;
  bandwidth.bits_per_cycle = bits;
  return bandwidth;
}

TEST(Port, TransferTakesBitsOverBandwidthThenLatency) {
  Port port(bits_per_cycle(64), 3);
  const Port::Grant grant = port.serve(10, 640);
  EXPECT_EQ(grant.start, 10u);
  EXPECT_EQ(grant.end, 20u);
  EXPECT_EQ(grant.done, 23u);
}

TEST(Port, RequestsQueueBehindTheTransferNotTheLatency) {
  Port port(bits_per_cycle(64), 100);
  port.serve(0, 640);
  const Port::Grant second = port.serve(5, 65);  // 65 bits: two cycles
  EXPECT_EQ(second.start, 10u);
  EXPECT_EQ(second.end, 12u);
  EXPECT_EQ(second.done, 112u);
  port.reset();
  EXPECT_EQ(port.serve(0, 64).start, 0u);
}

TEST(Port, UnlimitedBandwidthTakesNoCycles) {
  Bandwidth unlimited;
  unlimited.unlimited = true;
  Port port(unlimited, 2);
  EXPECT_EQ(port.serve(7, 1 << 30).done, 9u);
}

}  // namespace
}  // namespace bsnpu::arch
