// This machine's int8 MAC peak: every thread runs kChains independent `vpdpbusd zmm`
// (_mm512_dpbusd_epi32: 16 lanes x 4 u8*s8 products = 64 MACs per instruction) accumulator chains,
// enough to cover the instruction's latency times its throughput on current x86 cores, for about
// --seconds seconds after a short untimed warm-up. The result is the sum of all threads' MACs
// over the wall time from the common start to the last thread's end, in G MAC/s.
//
//   mac_peak [--threads N] [--seconds S] [--json FILE]
//
// Prints {"threads":N,"gmacs_per_second":...,...} on stdout (and into FILE). Without AVX-512 VNNI
// it says so and exits 0 (the JSON then has "gmacs_per_second": null).
//
// The whole file is compiled with -mavx512f/bw/vl/vnni (bench/CMakeLists.txt); main checks the
// CPU first thing, before any AVX-512 kernel runs.

#include <immintrin.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr int kChains = 20;  // independent accumulators (+2 inputs: 22 of 32 zmm)
constexpr int kMacsPerInstruction = 64;
constexpr long kStepsPerBlock = 4096;  // clock checked once per block (~80k instructions)

using Clock = std::chrono::steady_clock;

struct ThreadResult {
  std::uint64_t blocks = 0;
  std::int32_t checksum = 0;
};

// One block: kStepsPerBlock x kChains vpdpbusd. The accumulators live in registers across the
// block; `a` and `b` come from run time (seed), the accumulators go back to memory after every
// block and end in the printed checksum, so nothing can be folded or dropped.
inline void run_block(__m512i* acc, __m512i a, __m512i b) {
  __m512i r[kChains];
#pragma GCC unroll 32
  for (int c = 0; c < kChains; ++c) r[c] = acc[c];
  for (long step = 0; step < kStepsPerBlock; ++step) {
#pragma GCC unroll 32
    for (int c = 0; c < kChains; ++c) {
      r[c] = _mm512_dpbusd_epi32(r[c], a, b);
      // Emits nothing; keeps every chain in a zmm register and the steps in program order (GCC
      // otherwise interchanges the loops and streams each chain through memory).
      asm volatile("" : "+v"(r[c]));
    }
  }
#pragma GCC unroll 32
  for (int c = 0; c < kChains; ++c) acc[c] = r[c];
}

void worker(int seed, double seconds, std::atomic<int>& ready, const std::atomic<bool>& go,
            const Clock::time_point* start, ThreadResult& out) {
  __m512i acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = _mm512_set1_epi32(seed + c);
  const __m512i a = _mm512_set1_epi32(0x01010101 * (seed % 7 + 1));
  const __m512i b = _mm512_set1_epi32(-0x01010101 * (seed % 5 + 1));
  // Warm-up (clock and frequency settle), untimed.
  const auto warm_end = Clock::now() + std::chrono::milliseconds(100);
  while (Clock::now() < warm_end) run_block(acc, a, b);
  ready.fetch_add(1);
  while (!go.load(std::memory_order_acquire)) {
  }
  const auto end =
      *start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  std::uint64_t blocks = 0;
  do {
    run_block(acc, a, b);
    ++blocks;
  } while (Clock::now() < end);
  alignas(64) std::int32_t lanes[16 * kChains];
  for (int c = 0; c < kChains; ++c) _mm512_store_si512(static_cast<void*>(lanes + 16 * c), acc[c]);
  std::uint32_t sum = 0;
  for (std::int32_t lane : lanes) sum += static_cast<std::uint32_t>(lane);
  out.blocks = blocks;
  out.checksum = static_cast<std::int32_t>(sum);
}

int usage(const char* argv0) {
  std::fprintf(stderr, "usage: %s [--threads N] [--seconds S] [--json FILE]\n", argv0);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  __builtin_cpu_init();
  const bool vnni = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                    __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");

  int threads = 1;
  double seconds = 1.0;
  const char* json_path = nullptr;
  for (int i = 1; i < argc; ++i) {
    const bool has_value = i + 1 < argc;
    if (std::strcmp(argv[i], "--threads") == 0 && has_value) {
      threads = std::atoi(argv[++i]);
    } else if (std::strcmp(argv[i], "--seconds") == 0 && has_value) {
      seconds = std::atof(argv[++i]);
    } else if (std::strcmp(argv[i], "--json") == 0 && has_value) {
      json_path = argv[++i];
    } else {
      return usage(argv[0]);
    }
  }
  if (threads < 1 || threads > 1024 || !(seconds > 0.0 && seconds <= 600.0)) return usage(argv[0]);

  std::string json;
  if (!vnni) {
    std::fprintf(stderr,
                 "mac_peak: this CPU has no AVX-512 VNNI (avx512f/bw/vl + avx512_vnni); "
                 "no int8 MAC peak measured\n");
    json = "{\"threads\":" + std::to_string(threads) +
           ",\"gmacs_per_second\":null,\"error\":\"no AVX-512 VNNI on this CPU\"}";
  } else {
    std::vector<ThreadResult> results(static_cast<std::size_t>(threads));
    std::vector<std::thread> pool;
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    Clock::time_point start;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back(worker, t + 1, seconds, std::ref(ready), std::cref(go), &start,
                        std::ref(results[static_cast<std::size_t>(t)]));
    }
    while (ready.load() < threads) std::this_thread::yield();
    start = Clock::now();
    go.store(true, std::memory_order_release);
    for (auto& thread : pool) thread.join();
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();

    std::uint64_t blocks = 0;
    std::uint32_t checksum = 0;
    std::string per_thread;
    for (const auto& r : results) {
      blocks += r.blocks;
      checksum += static_cast<std::uint32_t>(r.checksum);
      const double thread_macs =
          static_cast<double>(r.blocks) * kStepsPerBlock * kChains * kMacsPerInstruction;
      per_thread += (per_thread.empty() ? "" : ",") + std::to_string(thread_macs / elapsed / 1e9);
    }
    const double instructions = static_cast<double>(blocks) * kStepsPerBlock * kChains;
    const double gmacs = instructions * kMacsPerInstruction / elapsed / 1e9;
    char buffer[512];
    std::snprintf(buffer, sizeof buffer,
                  "{\"threads\":%d,\"gmacs_per_second\":%.2f,\"seconds\":%.4f,"
                  "\"instruction\":\"vpdpbusd zmm\",\"macs_per_instruction\":%d,"
                  "\"chains_per_thread\":%d,\"ginstructions_per_second\":%.3f,"
                  "\"checksum\":%u,\"per_thread_gmacs_per_second\":[",
                  threads, gmacs, elapsed, kMacsPerInstruction, kChains,
                  instructions / elapsed / 1e9, checksum);
    json = std::string(buffer) + per_thread + "]}";
  }
  std::printf("%s\n", json.c_str());
  if (json_path != nullptr) {
    std::FILE* f = std::fopen(json_path, "w");
    bool ok = f != nullptr && std::fprintf(f, "%s\n", json.c_str()) >= 0;
    if (f != nullptr) ok = std::fclose(f) == 0 && ok;
    if (!ok) {
      std::fprintf(stderr, "mac_peak: cannot write %s\n", json_path);
      return 1;
    }
  }
  return 0;
}
