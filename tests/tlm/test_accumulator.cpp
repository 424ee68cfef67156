// Accumulator: shift-accumulate and partial-sum counts, post-processing throughput and its
// activation-buffer traffic.
#include <algorithm>
#include <numeric>
#include <string>

#include "bench.h"
#include "tlm/accumulator.h"

namespace bsnpu::tlm::testing {
namespace {

// input -> fc "first" (reads the image) -> fc "second" -> fc "third", the last two of one shape.
Model chain_model() {
  std::vector<Op> ops(4);
  ops[0].kind = OpKind::Input;
  ops[0].name = "input";
  ops[0].out_channels = 4;
  ops[0].out_hw = 1;
  const char* names[] = {"first", "second", "third"};
  for (int i = 1; i < 4; ++i) {
    Op& fc = ops[static_cast<size_t>(i)];
    fc.kind = OpKind::Fc;
    fc.name = names[i - 1];
    fc.inputs = {i - 1};
    fc.in_channels = 4;
    fc.out_channels = 4;
    fc.codes.assign(16, 200);
    fc.pad_value.assign(4, 0);
    for (int k = 1; k <= 8; ++k) {
      fc.requant.push_back(
          {std::vector<int32_t>(4, 1), std::vector<int64_t>(4, 0), std::vector<int32_t>(4, 0)});
    }
  }
  return Model::from_ops(ops, 8, 32, {1, 2, 3, 4, 5, 6, 7, 8});
}

struct AccumulatorBench {
  AccumulatorConfig config;
  Model model = tiny_model();
  Workload workload = Workload::from_model(model);
  WorkerPool workers{1};
  Initiator array{"array"}, controller{"controller"};
  Recorder activations{"activations"};
  Accumulator accumulator;
  // A second one on chain_model, for the partial-sum maps that layers of one shape share.
  Model chain = chain_model();
  Workload chain_workload = Workload::from_model(chain);
  Initiator chain_array{"chain_array"}, chain_controller{"chain_controller"};
  Recorder chain_activations{"chain_activations"};
  Accumulator chain_accumulator;
  AccumulatorBench()
      : config(make_config()),
        accumulator("accumulator", config, model, workload, workers, test_timebase()),
        chain_accumulator("chain_accumulator", config, chain, chain_workload, workers,
                          test_timebase()) {
    array.socket.bind(accumulator.array_port);
    controller.socket.bind(accumulator.control_port);
    accumulator.activation_port.bind(activations.socket);
    chain_array.socket.bind(chain_accumulator.array_port);
    chain_controller.socket.bind(chain_accumulator.control_port);
    chain_accumulator.activation_port.bind(chain_activations.socket);
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

// Layers that do not read the image share one partial-sum map per shape: the first layer keeps
// its own r (an escalation continues it) while the others run; a layer whose shared map another
// layer has taken over can no longer be continued.
TEST(Accumulator, LayersOfOneShapeShareTheirPartialSumMap) {
  AccumulatorBench& b = bench();
  const auto target = [&](int layer, int from, int to) {
    NpuPayload step;
    step.layer = layer;
    step.images = 1;
    step.from_plane = from;
    step.to_plane = to;
    step.command = Command::PartialSumTarget;
    const NpuPayload sums = b.chain_array.call(step);
    step.command = Command::AccumulatePlanes;
    if (from == 0) std::fill(sums.sums->data.begin(), sums.sums->data.end(), layer);
    if (from > 0) std::fill(sums.sums->data.begin(), sums.sums->data.end(), 1);
    b.chain_array.call(step);
    return sums.sums;
  };
  const WordMap* first = target(1, 0, 2);
  const WordMap* second = target(2, 0, 2);
  const WordMap* third = target(3, 0, 2);
  EXPECT_NE(first, second);
  EXPECT_EQ(second, third);
  target(1, 2, 3);  // r <- 2 r + 1 on the first layer's own map
  EXPECT_EQ(first->data.front(), 2 * 1 + 1);
  try {
    target(2, 2, 3);
    ADD_FAILURE() << "continued a layer whose map the next one took over";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("second: its partial sums were overwritten"),
              std::string::npos)
        << e.what();
  }
}

TEST(Accumulator, UnknownCommandIsRejected) {
  Request read = request(Command::WeightRead, 1, 0);
  EXPECT_EQ(bench().controller.status(&read.payload), ::tlm::TLM_COMMAND_ERROR_RESPONSE);
}

}  // namespace
}  // namespace bsnpu::tlm::testing
