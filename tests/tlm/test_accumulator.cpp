// Accumulator: shift-accumulate and partial-sum counts, post-processing throughput and its
// activation-buffer traffic.
#include "bench.h"
#include "tlm/accumulator.h"

namespace bsnpu::tlm::testing {
namespace {

struct AccumulatorBench {
  AccumulatorConfig config;
  Initiator array{"array"}, controller{"controller"};
  Recorder activations{"activations"};
  Accumulator accumulator;
  AccumulatorBench() : config(make_config()), accumulator("accumulator", config, test_timebase()) {
    array.socket.bind(accumulator.array_port);
    controller.socket.bind(accumulator.control_port);
    accumulator.activation_port.bind(activations.socket);
    elaborate();
  }
  static AccumulatorConfig make_config() {
    AccumulatorConfig config;
    config.bits = 32;
    config.postproc_lanes = 4;
    return config;
  }
};

AccumulatorBench& bench() {
  static AccumulatorBench instance;
  instance.accumulator.reset(1);
  instance.activations.seen.clear();
  return instance;
}

NpuPayload sums(uint64_t pixels, int cols, bool last_plane, bool first_row_tile, bool finalize) {
  NpuPayload payload = request(Command::Accumulate, 0, 0);
  payload.pixels = pixels;
  payload.cols_used = cols;
  payload.last_plane = last_plane;
  payload.first_row_tile = first_row_tile;
  payload.finalize = finalize;
  return payload;
}

TEST(Accumulator, ShiftAccumulatesOncePerOutputPerPlane) {
  AccumulatorBench& b = bench();
  for (int plane = 1; plane <= 3; ++plane) b.array.send(sums(10, 4, plane == 3, true, false));
  EXPECT_EQ(count(b.accumulator.stats, Action::ShiftAccumulate), 3u * 10 * 4);
  EXPECT_EQ(count(b.accumulator.stats, Action::PartialSumAdd), 0u);  // the first row tile sets it
  EXPECT_EQ(count(b.accumulator.stats, Action::PartialSumBits), 3u * 2 * 32 * 40 + 32 * 40);
}

TEST(Accumulator, LaterRowTilesAddIntoThePartialSum) {
  AccumulatorBench& b = bench();
  b.array.send(sums(10, 4, true, false, false));
  EXPECT_EQ(count(b.accumulator.stats, Action::PartialSumAdd), 40u);
}

TEST(Accumulator, FinalizeRequantizesWithLaneThroughput) {
  AccumulatorBench& b = bench();
  NpuPayload last = sums(10, 4, true, false, true);
  last.residual_adds = 40;
  last.operand_read_bits = 320;
  last.result_write_bits = 320;
  b.activations.latency = 3;
  // 40 outputs on 4 lanes: 10 cycles, as long as the pass itself.
  EXPECT_EQ(b.array.send(last).done_cycle, 10u);
  EXPECT_EQ(count(b.accumulator.stats, Action::Requantize), 40u);
  EXPECT_EQ(count(b.accumulator.stats, Action::ResidualAdd), 40u);
  ASSERT_EQ(b.activations.seen.size(), 2u);
  EXPECT_EQ(b.activations.seen[0].command, Command::ActivationRead);
  EXPECT_EQ(b.activations.seen[1].command, Command::ActivationWrite);
}

TEST(Accumulator, PostProcessingQueuesBehindThePrevious) {
  AccumulatorBench& b = bench();
  b.activations.latency = 0;
  b.array.send(sums(40, 4, true, true, true));  // 160 outputs: 40 cycles
  EXPECT_EQ(b.array.send(sums(1, 4, true, true, true)).done_cycle, 41u);
}

TEST(Accumulator, UnknownCommandIsRejected) {
  NpuPayload payload = request(Command::WeightRead, 1, 0);
  EXPECT_EQ(bench().controller.status(&payload), ::tlm::TLM_COMMAND_ERROR_RESPONSE);
}

}  // namespace
}  // namespace bsnpu::tlm::testing
