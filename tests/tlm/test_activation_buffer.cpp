// ActivationBuffer: streamed read/write ports, the input load, spills beyond the capacity.
#include "bench.h"
#include "core/arith.h"
#include "tlm/activation_buffer.h"

namespace bsnpu::tlm::testing {
namespace {

struct ActivationBufferBench {
  MemoryConfig config;
  Model model = tiny_model();
  Initiator controller{"controller"}, array{"array"}, accumulator{"accumulator"};
  Recorder dram{"dram"};
  ActivationBuffer buffer;
  ActivationBufferBench()
      : config(make_config()), buffer("activation_buffer", config, model, test_timebase()) {
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

// Functionally it holds the batch's feature maps: the input quantized from the pixels, one map
// per op output, bytes for unsigned outputs and words for the logits.
TEST(ActivationBuffer, LoadsImagesAndServesEveryOpsMap) {
  ActivationBufferBench& b = bench();
  std::vector<uint8_t> pixels(2 * kImageBytes);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(i * 7);
  NpuPayload load;
  load.command = Command::LoadImages;
  load.image_pixels = pixels.data();
  load.images = 2;
  b.controller.call(load);
  NpuPayload access;
  access.command = Command::MapAccess;
  access.layer = 0;
  const NpuPayload input = b.array.call(access);
  ASSERT_NE(input.bytes, nullptr);
  EXPECT_EQ(input.words, nullptr);
  EXPECT_EQ(input.bytes->images, 2);
  EXPECT_EQ(input.bytes->at(1, 0, 5)[2], quantize_pixel(pixels[kImageBytes + 2 * 1024 + 5], 8));
  EXPECT_EQ(input.bytes->at(0, -1, -1)[1], 110);  // the border holds the zero point
  access.layer = 3;
  const NpuPayload logits = b.accumulator.call(access);
  ASSERT_NE(logits.words, nullptr);
  EXPECT_EQ(logits.words->channels, 10);
  EXPECT_TRUE(b.dram.seen.empty());
  EXPECT_EQ(count(b.buffer.stats, Action::ActivationSramWriteBits), 0u);  // no simulated time
}

}  // namespace
}  // namespace bsnpu::tlm::testing
