// Threads that run request handlers, so that blocking work (database, outbound calls)
// never runs on Pistache's reactor threads.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace carnet {

class WorkerPool {
 public:
  explicit WorkerPool(int threads);
  // Finishes every queued task, then joins.
  ~WorkerPool();

  void Submit(std::function<void()> task);

  // Blocks until no task is queued or running, or the timeout passes; true when idle.
  bool WaitIdle(std::chrono::milliseconds timeout);

  // Tasks queued or running.
  size_t pending() const;

 private:
  void Loop();

  mutable std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable idle_cv_;
  std::deque<std::function<void()>> queue_;  // guarded by mu_
  size_t running_ = 0;                       // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace carnet
