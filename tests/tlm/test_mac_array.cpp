// MacArray: one cycle per pixel, stretched by the activation port; action counts; forwards the
// column sums to the Accumulator; rejects passes larger than the array.
#include "bench.h"
#include "tlm/mac_array.h"

namespace bsnpu::tlm::testing {
namespace {

struct MacArrayBench {
  MacArrayConfig config;
  Model model = tiny_model();
  WorkerPool workers{1};
  Initiator controller{"controller"};
  Recorder weights{"weights"}, activations{"activations"}, accumulator{"accumulator"};
  MacArray array;
  MacArrayBench()
      : config(make_config()), array("mac_array", config, model, workers, test_timebase()) {
    controller.socket.bind(array.target);
    array.weight_port.bind(weights.socket);
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
  instance.accumulator.ready.clear();
  instance.activations.latency = 0;
  instance.accumulator.latency = 0;
  return instance;
}

Request pass(int rows, int cols, uint64_t pixels, uint64_t start) {
  Request request = testing::request(Command::Compute, 0, start);
  request.payload.rows_used = rows;
  request.payload.cols_used = cols;
  request.payload.pixels = pixels;
  return request;
}

TEST(MacArray, OnePixelPerCycle) {
  MacArrayBench& b = bench();
  const Response done = b.controller.send(pass(4, 8, 100, 10));
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

// The pass holds the array until the Accumulator has absorbed its column sums: at once when it
// keeps up, later under back-pressure.
TEST(MacArray, PassEndsWhenTheColumnSumsAreAbsorbed) {
  MacArrayBench& b = bench();
  b.accumulator.latency = 0;
  EXPECT_EQ(b.controller.send(pass(4, 8, 100, 7)).done_cycle, 107u);
  ASSERT_EQ(b.accumulator.ready.size(), 1u);
  EXPECT_EQ(b.accumulator.ready[0], 7u);
  b.accumulator.latency = 500;
  EXPECT_EQ(b.controller.send(pass(4, 8, 100, 7)).done_cycle, 507u);
}

TEST(MacArray, RejectsPassesLargerThanTheArray) {
  Request too_wide = pass(4, 9, 1, 0);
  EXPECT_EQ(bench().controller.status(&too_wide.payload), ::tlm::TLM_COMMAND_ERROR_RESPONSE);
  Request empty = pass(0, 1, 1, 0);
  EXPECT_EQ(bench().controller.status(&empty.payload), ::tlm::TLM_COMMAND_ERROR_RESPONSE);
}

}  // namespace
}  // namespace bsnpu::tlm::testing
