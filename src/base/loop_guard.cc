#include "base/loop_guard.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>

namespace footfall {
namespace {

std::atomic<uint64_t> escaped{0};

struct LineState {
  std::chrono::steady_clock::time_point last_line{};
  uint64_t since_last_line = 0;
  bool written = false;
};

std::string JsonText(std::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text.substr(0, 300)) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      out += '?';  // the text may come from anywhere: keep the line plain ASCII JSON
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

}  // namespace

uint64_t EscapedExceptions() { return escaped.load(std::memory_order_relaxed); }

void ReportEscapedException(std::string_view loop, std::string_view what) {
  escaped.fetch_add(1, std::memory_order_relaxed);
  static std::mutex mu;
  static std::map<std::string, LineState, std::less<>> lines;
  std::string line;
  {
    std::lock_guard lock(mu);
    auto it = lines.find(loop);
    if (it == lines.end()) it = lines.emplace(std::string(loop), LineState{}).first;
    LineState& state = it->second;
    ++state.since_last_line;
    const auto now = std::chrono::steady_clock::now();
    if (state.written && now - state.last_line < std::chrono::minutes(1)) return;
    line = "{\"level\":\"error\",\"event\":\"exception_escaped\",\"loop\":" + JsonText(loop) +
           ",\"what\":" + JsonText(what) +
           ",\"since_last_line\":" + std::to_string(state.since_last_line) + "}\n";
    state = LineState{now, 0, true};
  }
  // Straight to the descriptor: this may run while the process's log writer is the thing failing.
  [[maybe_unused]] ssize_t written = ::write(2, line.data(), line.size());
}

}  // namespace footfall
