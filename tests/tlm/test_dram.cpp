// Dram: bandwidth-serial channel, overlapped latency, per-layer bit counts, bad requests.
#include "bench.h"
#include "tlm/dram.h"

namespace bsnpu::tlm::testing {
namespace {

struct DramBench {
  DramConfig config;
  Model model = tiny_model();
  Initiator weights{"weights"}, activations{"activations"};
  Dram dram;
  DramBench() : config(make_config()), dram("dram", config, model, test_timebase()) {
    weights.socket.bind(dram.weight_port);
    activations.socket.bind(dram.activation_port);
    elaborate();
  }
  static DramConfig make_config() {
    DramConfig config;
    config.bandwidth.bits_per_cycle = 256;
    config.latency_cycles = 50;
    return config;
  }
};

DramBench& bench() {
  static DramBench instance;
  instance.dram.reset(2);
  return instance;
}

TEST(Dram, TransferTakesBitsOverBandwidthPlusLatency) {
  DramBench& b = bench();
  EXPECT_EQ(b.weights.send(request(Command::DramRead, 4096, 10)).done_cycle, 10u + 16 + 50);
}

TEST(Dram, BackToBackRequestsShareTheChannelAndOverlapLatency) {
  DramBench& b = bench();
  EXPECT_EQ(b.weights.send(request(Command::DramRead, 4096, 0)).done_cycle, 66u);
  // Both ports share one channel: the second waits for the first transfer, not its latency.
  EXPECT_EQ(b.activations.send(request(Command::DramWrite, 256, 0, 1)).done_cycle, 16u + 1 + 50);
  EXPECT_EQ(count(b.dram.stats, Action::DramReadBits, 0), 4096u);
  EXPECT_EQ(count(b.dram.stats, Action::DramWriteBits, 1), 256u);
  // The channel busy [0, 16) with the read, then [16, 17) with the write.
  EXPECT_EQ(b.dram.stats.timeline(0), (arch::Timeline{{0, 17}}));
}

TEST(Dram, PartialWordsRoundUpToWholeCycles) {
  DramBench& b = bench();
  EXPECT_EQ(b.weights.send(request(Command::DramRead, 257, 0)).done_cycle, 2u + 50);
}

TEST(Dram, ResetClearsTheChannel) {
  DramBench& b = bench();
  b.weights.send(request(Command::DramRead, 1 << 20, 0));
  b.dram.reset(1);
  EXPECT_EQ(b.weights.send(request(Command::DramRead, 256, 0)).done_cycle, 51u);
}

// A prefetch is queued without time and placed when waited for, behind the demand issued in
// between; its bits count against the layer that issued it.
TEST(Dram, DemandGoesBeforeAQueuedPrefetch) {
  DramBench& b = bench();
  const Response queued = b.weights.send(request(Command::DramPrefetch, 4096, 0, 1));
  EXPECT_EQ(queued.done_cycle, 0u);
  EXPECT_EQ(count(b.dram.stats, Action::DramReadBits, 1), 0u);
  EXPECT_EQ(b.activations.send(request(Command::DramWrite, 2560, 0)).done_cycle, 10u + 50);
  Request wait = request(Command::DramPrefetchWait, 0, 0, 1);
  wait.payload.ticket = queued.payload.ticket;
  const Response placed = b.weights.send(wait);
  EXPECT_EQ(placed.payload.transfer_start, 10u);
  EXPECT_EQ(placed.done_cycle, 26u + 50);
  EXPECT_EQ(count(b.dram.stats, Action::DramReadBits, 1), 4096u);
  wait.payload.ticket = 7;
  EXPECT_EQ(b.weights.status(&wait.payload), ::tlm::TLM_COMMAND_ERROR_RESPONSE);
}

TEST(Dram, PlainTransactionOtherThanAReadIsAnError) {
  EXPECT_EQ(bench().weights.status(nullptr), ::tlm::TLM_COMMAND_ERROR_RESPONSE);
}

// The model image: every layer's codes at weight_addresses, read with a plain TLM read.
TEST(Dram, HoldsTheModelImage) {
  DramBench& b = bench();
  const std::vector<uint64_t> addresses = weight_addresses(b.model);
  ASSERT_EQ(addresses.size(), b.model.ops().size() + 1);
  const Op& fc = b.model.op(3);
  std::vector<uint8_t> codes(fc.codes.size());
  ::tlm::tlm_generic_payload read;
  read.set_command(::tlm::TLM_READ_COMMAND);
  read.set_address(addresses[3]);
  read.set_data_ptr(codes.data());
  read.set_data_length(static_cast<unsigned>(codes.size()));
  sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
  b.weights.socket->b_transport(read, delay);
  EXPECT_EQ(read.get_response_status(), ::tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(codes, fc.codes);
  EXPECT_EQ(delay, sc_core::SC_ZERO_TIME);
  read.set_address(addresses.back() - 1);  // runs past the image
  b.weights.socket->b_transport(read, delay);
  EXPECT_EQ(read.get_response_status(), ::tlm::TLM_ADDRESS_ERROR_RESPONSE);
}

}  // namespace
}  // namespace bsnpu::tlm::testing
