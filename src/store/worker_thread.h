// WorkerThread: one thread that runs posted jobs in order — how an engine gives a connection that
// must be used by one thread at a time (a SQLite or libpq connection) to concurrent callers.
// Thread-safe: Post() from any thread. Destruction runs every job already posted, then joins.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "base/loop_guard.h"
#include "base/thread_name.h"

namespace footfall::store {

class WorkerThread {
 public:
  // `name`: the thread's name (see base/thread_name.h).
  explicit WorkerThread(std::string name)
      : name_(std::move(name)), thread_([this] {
          NameThisThread(name_);
          Run();
        }) {}
  ~WorkerThread() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }
  WorkerThread(const WorkerThread&) = delete;
  WorkerThread& operator=(const WorkerThread&) = delete;

  void Post(std::function<void()> job) {
    {
      std::lock_guard lock(mu_);
      jobs_.push_back(std::move(job));
    }
    wake_.notify_one();
  }

 private:
  void Run() {
    std::unique_lock lock(mu_);
    while (true) {
      wake_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;  // stopping, and everything posted has run
      std::function<void()> job = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      CatchEscaped(name_, job);  // a bug in one job must not end the engine's only thread
      lock.lock();
    }
  }

  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  const std::string name_;
  std::thread thread_;  // last: starts after the members above exist
};

}  // namespace footfall::store
