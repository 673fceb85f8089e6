// LogWriter: appends whole lines to a file descriptor (stderr by default) without making the
// caller wait for the write. Lines are buffered and written by one background thread, in order,
// at least every 50 ms and on Flush() / destruction. Thread-safe: Write() may be called from any
// thread. If the buffer exceeds its cap (the descriptor is slower than the producers), new lines
// are counted and dropped rather than blocking request threads; the drop count is logged.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace footfall {

class LogWriter {
 public:
  // Writes to `fd` (not owned). `max_buffered_bytes` bounds memory held for a slow descriptor.
  explicit LogWriter(int fd = 2, size_t max_buffered_bytes = 8 << 20);
  ~LogWriter();
  LogWriter(const LogWriter&) = delete;
  LogWriter& operator=(const LogWriter&) = delete;

  // Queues `line` plus a newline.
  void Write(std::string_view line);
  // Blocks until everything queued so far has been handed to the kernel.
  void Flush();

 private:
  void Run();

  const int fd_;
  const size_t max_buffered_bytes_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable flushed_;
  std::string pending_;
  uint64_t dropped_ = 0;
  uint64_t queued_generation_ = 0;
  uint64_t written_generation_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace footfall
