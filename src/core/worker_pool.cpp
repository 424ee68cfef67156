#include "core/worker_pool.h"

#include <system_error>

#include "core/error.h"

namespace bsnpu {
namespace {

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
    stopping_ = true;
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
    pending_ = parts - 1;
    pending_parts_ = parts;
    failure_ = nullptr;
    ++generation_;
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
  std::unique_lock<std::mutex> lock(mutex_);
  done_.wait(lock, [this] { return pending_ == 0; });
  task_ = nullptr;
  if (own_failure) std::rethrow_exception(own_failure);
  if (failure_) std::rethrow_exception(failure_);
}

void WorkerPool::helper_loop(int worker) {
  size_t seen = 0;
  for (;;) {
    std::unique_lock<std::mutex> lock(mutex_);
    wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
    if (stopping_) return;
    seen = generation_;
    const Task* task = task_;
    int begin = 0, end = 0;
    part_bounds(count_, pending_parts_, worker, begin, end);
    lock.unlock();
    std::exception_ptr failure;
    try {
      if (begin < end) (*task)(begin, end, worker);
    } catch (...) {
      failure = std::current_exception();
    }
    lock.lock();
    if (failure && !failure_) failure_ = failure;
    if (--pending_ == 0) done_.notify_one();
  }
}

}  // namespace bsnpu
