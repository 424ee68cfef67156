#include <random>

#include "bench.h"

namespace bsnpu::tlm::testing {

Model tiny_model() {
  std::mt19937 rng(2026);
  auto requant = [&](int channels, int shift) {
    Requant r;
    for (int c = 0; c < channels; ++c) {
      r.mult.push_back(static_cast<int32_t>(rng() % 4096) + 1024);
      r.offset.push_back(static_cast<int64_t>(rng() % 2048) << (shift - 4));
      r.shift.push_back(shift);
    }
    return r;
  };
  Op input;
  input.kind = OpKind::Input;
  input.name = "input";
  input.out_channels = 3;
  input.out_hw = 32;
  input.zero_point = {100, 110, 120};
  Op conv;
  conv.kind = OpKind::Conv;
  conv.name = "conv";
  conv.inputs = {0};
  conv.in_channels = 3;
  conv.out_channels = 8;
  conv.kernel = 3;
  conv.pad = 1;
  conv.in_hw = conv.out_hw = 32;
  conv.relu = true;
  conv.pad_value = input.zero_point;
  conv.codes.resize(8 * 3 * 9);
  for (uint8_t& code : conv.codes) code = static_cast<uint8_t>(rng());
  Op pool;
  pool.kind = OpKind::AvgPool;
  pool.name = "pool";
  pool.inputs = {1};
  pool.in_channels = pool.out_channels = 8;
  pool.in_hw = 32;
  pool.pool_mult = 1 << 20;
  pool.pool_shift = 30;
  Op fc;
  fc.kind = OpKind::Fc;
  fc.name = "fc";
  fc.inputs = {2};
  fc.in_channels = 8;
  fc.out_channels = 10;
  fc.codes.resize(10 * 8);
  for (uint8_t& code : fc.codes) code = static_cast<uint8_t>(rng());
  fc.pad_value.assign(8, 0);
  for (int k = 1; k <= 8; ++k) {
    conv.requant.push_back(requant(8, 16 + k));
    fc.requant.push_back(requant(10, 8));
  }
  return Model::from_ops({input, conv, pool, fc}, 8, 32, {1, 2, 3, 4, 5, 6, 7, 8});
}

}  // namespace bsnpu::tlm::testing
