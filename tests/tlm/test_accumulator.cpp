// Accumulator: shift-accumulate and partial-sum counts, post-processing throughput and its
// activation-buffer traffic.
#include <numeric>

#include "bench.h"
#include "tlm/accumulator.h"

namespace bsnpu::tlm::testing {
namespace {

struct AccumulatorBench {
  AccumulatorConfig config;
  Model model = tiny_model();
  Workload workload = Workload::from_model(model);
  WorkerPool workers{1};
  Initiator array{"array"}, controller{"controller"};
  Recorder activations{"activations"};
  Accumulator accumulator;
  AccumulatorBench()
      : config(make_config()),
        accumulator("accumulator", config, model, workload, workers, test_timebase()) {
    array.socket.bind(accumulator.array_port);
    controller.socket.bind(accumulator.control_port);
    accumulator.activation_port.bind(activations.socket);
    elaborate();
  }
  static AccumulatorConfig make_config() {
    AccumulatorConfig config;
    config.bits = 32;
    config.banks = 4;  // a 64-bit word per bank and cycle: 4 columns at full rate
    config.port_bits = 64;
    config.port.bits_per_cycle = 4 * 64;
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

Request sums(uint64_t pixels, int cols, bool last_plane, bool first_row_tile, bool finalize) {
  Request request = testing::request(Command::Accumulate, 0, 0);
  NpuPayload& payload = request.payload;
  payload.pixels = pixels;
  payload.cols_used = cols;
  payload.last_plane = last_plane;
  payload.first_row_tile = first_row_tile;
  payload.finalize = finalize;
  return request;
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
  Request last = sums(10, 4, true, false, true);
  last.payload.residual_adds = 40;
  last.payload.operand_read_bits = 320;
  last.payload.result_write_bits = 320;
  b.activations.latency = 3;
  // 40 outputs on 4 lanes: 10 cycles, as long as the pass itself.
  EXPECT_EQ(b.array.send(last).done_cycle, 10u);
  EXPECT_EQ(count(b.accumulator.stats, Action::Requantize), 40u);
  EXPECT_EQ(count(b.accumulator.stats, Action::ResidualAdd), 40u);
  ASSERT_EQ(b.activations.seen.size(), 2u);
  EXPECT_EQ(b.activations.seen[0].command, Command::ActivationRead);
  EXPECT_EQ(b.activations.seen[1].command, Command::ActivationWrite);
}

// Post-processing of consecutive tiles queues on the lanes; the array goes on while a buffer is
// free (two by default) and waits for one otherwise.
TEST(Accumulator, PostProcessingQueuesAndBackPressuresTheArray) {
  AccumulatorBench& b = bench();
  b.activations.latency = 0;
  Request first = sums(40, 4, true, true, true);  // 160 outputs on 4 lanes: post-processed by 40
  first.payload.first_plane = true;
  EXPECT_EQ(b.array.send(first).done_cycle, 40u);
  Request second = sums(1, 4, true, true, true);  // a second buffer: absorbed at once
  second.payload.first_plane = true;
  EXPECT_EQ(b.array.send(second).done_cycle, 1u);
  EXPECT_EQ(b.controller.send(request(Command::Drain, 0, 0)).done_cycle, 41u);  // queued at 40
  // A third tile needs the first buffer, free when its post-processing ended at 40.
  Request third = sums(1, 4, true, true, true);
  third.payload.first_plane = true;
  EXPECT_EQ(b.array.send(third).done_cycle, 41u);
}

TEST(Accumulator, NarrowPortStretchesThePass) {
  AccumulatorBench& b = bench();
  // 10 pixels x 4 columns x a 64-bit word, through 4 x 64 bits per cycle: 10 cycles.
  EXPECT_EQ(b.array.send(sums(10, 4, false, true, false)).done_cycle, 10u);
  // The bench's port is 4 x 64 bits; 8 columns need twice that.
  Request wide = sums(10, 8, false, true, false);
  EXPECT_EQ(b.array.send(wide).done_cycle, 20u);
}

TEST(Accumulator, DrainWaitsForThePostProcessingIssued) {
  AccumulatorBench& b = bench();
  b.activations.latency = 0;
  b.array.send(sums(40, 4, true, true, true));  // 160 outputs on 4 lanes: done at 40
  EXPECT_EQ(b.controller.send(request(Command::Drain, 0, 5)).done_cycle, 40u);
  EXPECT_EQ(b.controller.send(request(Command::Drain, 0, 60)).done_cycle, 60u);
}

// Functional: the first planes' sums are written into r itself; later planes land in a staging
// map and continue r <- 2^n r + S.
TEST(Accumulator, ContinuesTheAccumulationWithMorePlanes) {
  AccumulatorBench& b = bench();
  NpuPayload step;
  step.layer = 1;  // the tiny model's conv
  step.images = 2;
  step.from_plane = 0;
  step.to_plane = 3;
  step.command = Command::PartialSumTarget;
  const NpuPayload first = b.array.call(step);
  ASSERT_NE(first.sums, nullptr);
  ASSERT_GE(first.sums->images, 2);
  std::iota(first.sums->data.begin(), first.sums->data.end(), -5);
  const std::vector<int32_t> r = first.sums->data;
  step.command = Command::AccumulatePlanes;
  b.array.call(step);

  step.from_plane = 3;
  step.to_plane = 5;
  step.command = Command::PartialSumTarget;
  const NpuPayload second = b.array.call(step);
  ASSERT_NE(second.sums, nullptr);
  ASSERT_NE(second.sums, first.sums);
  std::fill(second.sums->data.begin(), second.sums->data.end(), 7);
  step.command = Command::AccumulatePlanes;
  b.array.call(step);
  for (size_t i = 0; i < r.size(); ++i) ASSERT_EQ(first.sums->data[i], 4 * r[i] + 7) << i;
}

TEST(Accumulator, RefusesToContinueFromPlanesItDoesNotHold) {
  AccumulatorBench& b = bench();
  NpuPayload step;
  step.layer = 1;
  step.images = 1;
  step.from_plane = 0;
  step.to_plane = 2;
  step.command = Command::PartialSumTarget;
  b.array.call(step);  // r is being overwritten: it holds no planes until AccumulatePlanes
  step.from_plane = 2;
  step.to_plane = 3;
  step.command = Command::AccumulatePlanes;
  EXPECT_THROW(b.array.call(step), Error);
}

TEST(Accumulator, UnknownCommandIsRejected) {
  Request read = request(Command::WeightRead, 1, 0);
  EXPECT_EQ(bench().controller.status(&read.payload), ::tlm::TLM_COMMAND_ERROR_RESPONSE);
}

}  // namespace
}  // namespace bsnpu::tlm::testing
