// WeightMemory: refills go through DRAM and the write port; reads occupy the read port.
#include "bench.h"
#include "tlm/weight_memory.h"

namespace bsnpu::tlm::testing {
namespace {

struct WeightMemoryBench {
  MemoryConfig config;
  Model model = tiny_model();
  Initiator controller{"controller"}, array{"array"};
  Recorder dram{"dram"};
  WeightMemory memory;
  WeightMemoryBench()
      : config(make_config()), memory("weight_memory", config, model, test_timebase()) {
    controller.socket.bind(memory.target);
    array.socket.bind(memory.array_port);
    memory.dram_port.bind(dram.socket);
    dram.latency = 100;
    elaborate();
  }
  static MemoryConfig make_config() {
    MemoryConfig config;
    config.capacity_bits = 8 * 8192;
    config.banks = 8;
    config.port_bits = 64;
    config.port.bits_per_cycle = 512;
    config.latency_cycles = 2;
    return config;
  }
};

WeightMemoryBench& bench() {
  static WeightMemoryBench instance;
  instance.memory.reset(1);
  instance.dram.seen.clear();
  return instance;
}

TEST(WeightMemory, ReadTakesPortCyclesPlusLatency) {
  WeightMemoryBench& b = bench();
  EXPECT_EQ(b.controller.send(request(Command::WeightRead, 4096, 5)).done_cycle, 5u + 8 + 2);
  EXPECT_EQ(count(b.memory.stats, Action::WeightSramReadBits), 4096u);
  EXPECT_TRUE(b.dram.seen.empty());
}

TEST(WeightMemory, ReadsQueueOnTheReadPort) {
  WeightMemoryBench& b = bench();
  b.controller.send(request(Command::WeightRead, 4096, 0));
  EXPECT_EQ(b.controller.send(request(Command::WeightRead, 4096, 0)).done_cycle, 16u + 2);
}

// A fill is queued as a DRAM prefetch and moves when it is waited for; a second wait answers
// from the first.
TEST(WeightMemory, FillQueuesAPrefetchAndWaitsForIt) {
  WeightMemoryBench& b = bench();
  const Response queued = b.controller.send(request(Command::WeightFill, 4096, 3));
  ASSERT_EQ(b.dram.seen.size(), 1u);
  EXPECT_EQ(b.dram.seen[0].command, Command::DramPrefetch);
  EXPECT_EQ(b.dram.seen[0].bits, 4096u);
  EXPECT_EQ(count(b.memory.stats, Action::WeightSramWriteBits), 0u);
  Request wait = request(Command::WeightFillWait, 0, 3);
  wait.payload.ticket = queued.payload.ticket;
  EXPECT_EQ(b.controller.send(wait).done_cycle, 103u);
  ASSERT_EQ(b.dram.seen.size(), 2u);
  EXPECT_EQ(b.dram.seen[1].command, Command::DramPrefetchWait);
  EXPECT_EQ(count(b.memory.stats, Action::WeightSramWriteBits), 4096u);
  EXPECT_EQ(b.controller.send(wait).done_cycle, 103u);
  EXPECT_EQ(b.dram.seen.size(), 2u);
  EXPECT_EQ(count(b.memory.stats, Action::WeightSramWriteBits), 4096u);
}

TEST(WeightMemory, WaitForAFillNeverQueuedIsRejected) {
  Request wait = request(Command::WeightFillWait, 0, 0);
  wait.payload.ticket = 99;
  EXPECT_EQ(bench().controller.status(&wait.payload), ::tlm::TLM_COMMAND_ERROR_RESPONSE);
}

TEST(WeightMemory, UnknownCommandIsRejected) {
  Request compute = request(Command::Compute, 1, 0);
  EXPECT_EQ(bench().controller.status(&compute.payload), ::tlm::TLM_COMMAND_ERROR_RESPONSE);
}

}  // namespace
}  // namespace bsnpu::tlm::testing
