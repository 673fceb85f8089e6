// libFuzzer target: arbitrary bytes as the body of POST /api/event (core::ParseEventBody). What
// parses must keep the documented bounds: a screen width in 0..100000 and a known screen class.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/event_body.h"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto body = footfall::core::ParseEventBody(input);
  if (!body.ok()) {
    Check(!body.status().message().empty());
    return 0;
  }
  Check(body->screen_width >= 0 && body->screen_width <= 100000);
  const std::string_view screen = footfall::core::ScreenClass(body->screen_width);
  Check(screen.empty() == (body->screen_width == 0));
  return 0;
}
