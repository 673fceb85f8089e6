#include "base/log_writer.h"

#include "base/thread_name.h"

#include <unistd.h>

#include <cerrno>
#include <chrono>

namespace footfall {
namespace {

void WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // Nowhere left to report a failing log descriptor; drop the rest.
    }
    done += static_cast<size_t>(n);
  }
}

}  // namespace

LogWriter::LogWriter(int fd, size_t max_buffered_bytes)
    : fd_(fd), max_buffered_bytes_(max_buffered_bytes), thread_([this] {
        NameThisThread("ff-log");
        Run();
      }) {}

LogWriter::~LogWriter() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void LogWriter::Write(std::string_view line) {
  std::lock_guard lock(mu_);
  if (pending_.size() + line.size() + 1 > max_buffered_bytes_) {
    ++dropped_;
    return;
  }
  pending_.append(line);
  pending_.push_back('\n');
  ++queued_generation_;
}

void LogWriter::Flush() {
  std::unique_lock lock(mu_);
  uint64_t target = queued_generation_;
  wake_.notify_one();
  flushed_.wait(lock, [&] { return written_generation_ >= target; });
}

void LogWriter::Run() {
  std::string batch;
  std::unique_lock lock(mu_);
  while (true) {
    wake_.wait_for(lock, std::chrono::milliseconds(50));
    batch.swap(pending_);
    uint64_t generation = queued_generation_;
    uint64_t dropped = dropped_;
    dropped_ = 0;
    bool stopping = stopping_;
    lock.unlock();
    if (dropped > 0) {
      batch += "{\"level\":\"warn\",\"msg\":\"log lines dropped: writer too slow\",\"dropped\":" +
               std::to_string(dropped) + "}\n";
    }
    WriteAll(fd_, batch);
    batch.clear();
    lock.lock();
    written_generation_ = generation;
    flushed_.notify_all();
    if (stopping && pending_.empty()) return;
  }
}

}  // namespace footfall
