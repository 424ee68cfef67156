// A fixed set of worker threads that split a range of images between them, started once and
// reused for every layer (the engine and the NPU's MacArray and Accumulator call it per layer).
// A thread that waits (a helper for the next run, the caller for the parts of this one) spins
// for a short while before it sleeps: the NPU's modules call run() twice per layer, and a futex
// sleep and wake-up at each call would cost tens of microseconds.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace bsnpu {

class WorkerPool {
 public:
  // Task: images [begin, end) on worker `worker` (0 .. threads - 1; the caller is worker 0).
  using Task = std::function<void(int begin, int end, int worker)>;

  // Starts threads - 1 helper threads. Throws bsnpu::Error naming --threads if the system
  // refuses one (every thread already started is stopped first).
  explicit WorkerPool(int threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  int threads() const { return static_cast<int>(helpers_.size()) + 1; }
  // Splits [0, count) into threads() contiguous parts and runs them; returns when all are done.
  // The first exception a part throws is rethrown here.
  void run(int count, const Task& task);

 private:
  void helper_loop(int worker);
  void stop_helpers();

  std::vector<std::thread> helpers_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  // Written by run() before it publishes the next generation; read by the helpers after.
  const Task* task_ = nullptr;
  int count_ = 0;
  int pending_parts_ = 1;  // threads() as of the current run
  std::atomic<size_t> generation_{0};
  std::atomic<int> pending_{0};  // helpers still running their part
  std::atomic<bool> stopping_{false};
  std::exception_ptr failure_;  // guarded by mutex_
};

}  // namespace bsnpu
