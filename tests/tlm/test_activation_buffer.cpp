// ActivationBuffer: streamed read/write ports, the input load, spills beyond the capacity.
#include "bench.h"
#include "tlm/activation_buffer.h"

namespace bsnpu::tlm::testing {
namespace {

struct ActivationBufferBench {
  MemoryConfig config;
  Initiator controller{"controller"}, array{"array"}, accumulator{"accumulator"};
  Recorder dram{"dram"};
  ActivationBuffer buffer;
  ActivationBufferBench()
      : config(make_config()), buffer("activation_buffer", config, test_timebase()) {
    controller.socket.bind(buffer.control_port);
    array.socket.bind(buffer.array_port);
    accumulator.socket.bind(buffer.accumulator_port);
    buffer.dram_port.bind(dram.socket);
    dram.latency = 40;
    elaborate();
  }
  static MemoryConfig make_config() {
    MemoryConfig config;
    config.capacity_bits = 16 * 8192;
    config.banks = 4;
    config.port_bits = 64;
    config.port.bits_per_cycle = 256;
    config.latency_cycles = 2;
    return config;
  }
};

ActivationBufferBench& bench() {
  static ActivationBufferBench instance;
  instance.buffer.reset(1);
  instance.dram.seen.clear();
  return instance;
}

TEST(ActivationBuffer, ReadsAndWritesUseSeparatePorts) {
  ActivationBufferBench& b = bench();
  EXPECT_EQ(b.array.send(request(Command::ActivationRead, 2560, 0)).done_cycle, 10u);
  EXPECT_EQ(b.accumulator.send(request(Command::ActivationWrite, 256, 0)).done_cycle, 1u);
  EXPECT_EQ(b.accumulator.send(request(Command::ActivationRead, 256, 0)).done_cycle, 11u);
  EXPECT_EQ(count(b.buffer.stats, Action::ActivationSramReadBits), 2816u);
  EXPECT_EQ(count(b.buffer.stats, Action::ActivationSramWriteBits), 256u);
}

TEST(ActivationBuffer, InputLoadComesFromDram) {
  ActivationBufferBench& b = bench();
  EXPECT_EQ(b.controller.send(request(Command::InputLoad, 24576, 0)).done_cycle, 96u);
  ASSERT_EQ(b.dram.seen.size(), 1u);
  EXPECT_EQ(b.dram.seen[0].bits, 24576u);
}

TEST(ActivationBuffer, ReserveWithinCapacityCostsNothing) {
  ActivationBufferBench& b = bench();
  EXPECT_EQ(b.controller.send(request(Command::Reserve, 16 * 8192, 7)).done_cycle, 7u);
  EXPECT_TRUE(b.dram.seen.empty());
}

TEST(ActivationBuffer, ExcessSpillsToDramAndBack) {
  ActivationBufferBench& b = bench();
  EXPECT_EQ(b.controller.send(request(Command::Reserve, 16 * 8192 + 1024, 0)).done_cycle,
            4u + 40 + 40 + 4);
  ASSERT_EQ(b.dram.seen.size(), 2u);
  EXPECT_EQ(b.dram.seen[0].command, Command::DramWrite);
  EXPECT_EQ(b.dram.seen[1].command, Command::DramRead);
  EXPECT_EQ(b.dram.seen[0].bits, 1024u);
  EXPECT_EQ(count(b.buffer.stats, Action::ActivationSramReadBits), 1024u);
  EXPECT_EQ(count(b.buffer.stats, Action::ActivationSramWriteBits), 1024u);
}

}  // namespace
}  // namespace bsnpu::tlm::testing
