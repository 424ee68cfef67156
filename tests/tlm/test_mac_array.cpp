// MacArray: one cycle per pixel, stretched by the activation port; action counts; forwards the
// column sums to the Accumulator; rejects passes larger than the array.
#include "bench.h"
#include "tlm/mac_array.h"

namespace bsnpu::tlm::testing {
namespace {

struct MacArrayBench {
  MacArrayConfig config;
  Initiator controller{"controller"};
  Recorder activations{"activations"}, accumulator{"accumulator"};
  MacArray array;
  MacArrayBench() : config(make_config()), array("mac_array", config, 8, test_timebase()) {
    controller.socket.bind(array.target);
    array.activation_port.bind(activations.socket);
    array.accumulator_port.bind(accumulator.socket);
    elaborate();
  }
  static MacArrayConfig make_config() {
    MacArrayConfig config;
    config.rows = 4;
    config.cols = 8;
    return config;
  }
};

MacArrayBench& bench() {
  static MacArrayBench instance;
  instance.array.reset(1);
  instance.activations.seen.clear();
  instance.accumulator.seen.clear();
  instance.activations.latency = 0;
  instance.accumulator.latency = 0;
  return instance;
}

NpuPayload pass(int rows, int cols, uint64_t pixels, uint64_t start) {
  NpuPayload payload = request(Command::Compute, 0, start);
  payload.rows_used = rows;
  payload.cols_used = cols;
  payload.pixels = pixels;
  return payload;
}

TEST(MacArray, OnePixelPerCycle) {
  MacArrayBench& b = bench();
  const NpuPayload done = b.controller.send(pass(4, 8, 100, 10));
  EXPECT_EQ(done.done_cycle, 110u);
  ASSERT_EQ(b.activations.seen.size(), 1u);
  EXPECT_EQ(b.activations.seen[0].bits, 100u * 4 * 8);  // pixels x rows x act_bits
  ASSERT_EQ(b.accumulator.seen.size(), 1u);
  EXPECT_EQ(b.accumulator.seen[0].command, Command::Accumulate);
}

TEST(MacArray, CountsAddSubsTreeAddsAndWeightRegisters) {
  MacArrayBench& b = bench();
  b.controller.send(pass(3, 5, 10, 0));
  EXPECT_EQ(count(b.array.stats, Action::PeAddSub), 10u * 3 * 5);
  EXPECT_EQ(count(b.array.stats, Action::AdderTreeAdd), 10u * 5 * 2);
  EXPECT_EQ(count(b.array.stats, Action::PeWeightRegisterBits), 15u);
}

TEST(MacArray, SlowActivationsStretchThePass) {
  MacArrayBench& b = bench();
  b.activations.latency = 150;
  EXPECT_EQ(b.controller.send(pass(4, 8, 100, 0)).done_cycle, 150u);
}

TEST(MacArray, ReportsWhenPostProcessingEnds) {
  MacArrayBench& b = bench();
  b.accumulator.latency = 500;
  EXPECT_EQ(b.controller.send(pass(4, 8, 100, 0)).postproc_done_cycle, 500u);
}

TEST(MacArray, RejectsPassesLargerThanTheArray) {
  NpuPayload too_wide = pass(4, 9, 1, 0);
  EXPECT_EQ(bench().controller.status(&too_wide), ::tlm::TLM_COMMAND_ERROR_RESPONSE);
  NpuPayload empty = pass(0, 1, 1, 0);
  EXPECT_EQ(bench().controller.status(&empty), ::tlm::TLM_COMMAND_ERROR_RESPONSE);
}

}  // namespace
}  // namespace bsnpu::tlm::testing
