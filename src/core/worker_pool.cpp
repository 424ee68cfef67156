#include "core/worker_pool.h"

#include <chrono>
#include <system_error>

#include "core/error.h"

namespace bsnpu {
namespace {

// How long a waiting thread spins before it sleeps: longer than the gap between two layers' calls
// to run(), far shorter than a layer.
constexpr std::chrono::microseconds kSpin{200};

// Spins until ready() or kSpin has passed; returns ready().
template <typename Ready>
bool spin_until(const Ready& ready) {
  const auto deadline = std::chrono::steady_clock::now() + kSpin;
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (ready()) return true;
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    }
    if (std::chrono::steady_clock::now() >= deadline) return ready();
  }
}

// Part `worker` of `parts` of [0, count).
void part_bounds(int count, int parts, int worker, int& begin, int& end) {
  begin = static_cast<int>(int64_t{count} * worker / parts);
  end = static_cast<int>(int64_t{count} * (worker + 1) / parts);
}

}  // namespace

WorkerPool::WorkerPool(int threads) {
  if (threads < 1) throw Error("--threads: must be at least 1");
  helpers_.reserve(static_cast<size_t>(threads - 1));
  for (int worker = 1; worker < threads; ++worker) {
    try {
      helpers_.emplace_back(&WorkerPool::helper_loop, this, worker);
    } catch (const std::system_error& e) {
      stop_helpers();
      throw Error("--threads: cannot start worker thread " + std::to_string(worker + 1) + " of " +
                  std::to_string(threads) + ": " + e.what());
    }
  }
}

WorkerPool::~WorkerPool() { stop_helpers(); }

void WorkerPool::stop_helpers() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_.store(true, std::memory_order_release);
  }
  wake_.notify_all();
  for (std::thread& helper : helpers_) helper.join();
  helpers_.clear();
}

void WorkerPool::run(int count, const Task& task) {
  const int parts = threads();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    task_ = &task;
    count_ = count;
    pending_parts_ = parts;
    failure_ = nullptr;
    pending_.store(parts - 1, std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  int begin = 0, end = 0;
  part_bounds(count, parts, 0, begin, end);
  std::exception_ptr own_failure;
  try {
    if (begin < end) task(begin, end, 0);
  } catch (...) {
    own_failure = std::current_exception();
  }
  const auto parts_done = [this] { return pending_.load(std::memory_order_acquire) == 0; };
  const bool spun = spin_until(parts_done);
  std::unique_lock<std::mutex> lock(mutex_);
  if (!spun) done_.wait(lock, parts_done);
  task_ = nullptr;
  if (own_failure) std::rethrow_exception(own_failure);
  if (failure_) std::rethrow_exception(failure_);
}

void WorkerPool::helper_loop(int worker) {
  size_t seen = 0;
  const auto posted = [&] {
    return stopping_.load(std::memory_order_acquire) ||
           generation_.load(std::memory_order_acquire) != seen;
  };
  for (;;) {
    if (!spin_until(posted)) {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, posted);
    }
    if (stopping_.load(std::memory_order_acquire)) return;
    seen = generation_.load(std::memory_order_acquire);
    int begin = 0, end = 0;
    part_bounds(count_, pending_parts_, worker, begin, end);
    try {
      if (begin < end) (*task_)(begin, end, worker);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!failure_) failure_ = std::current_exception();
    }
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard<std::mutex> lock(mutex_);  // the caller may be between check and sleep
      done_.notify_one();
    }
  }
}

}  // namespace bsnpu
