// The body of POST /api/event: what navigator.sendBeacon sends (a small JSON object, usually as
// text/plain so that no CORS preflight is needed). Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace footfall::core {

// Bodies larger than this are refused (413): an event is a few dozen bytes.
inline constexpr size_t kMaxEventBodyBytes = 2048;

struct EventBody {
  std::optional<std::string> path;  // the page path as sent (not yet normalised)
  std::string referrer;             // document.referrer as sent ("" if absent)
  int screen_width = 0;             // CSS pixels; 0 if absent
};

// Parses {"path": "/blog/x", "referrer": "https://news.example/", "screen": 1280}. Every field is
// optional; unknown fields are ignored. Errors: kInvalidArgument (not a JSON object, not UTF-8,
// a field of the wrong type, screen outside 0..100000) with a message fit for the client.
StatusOr<EventBody> ParseEventBody(std::string_view body);

// The screen-size class stored with a visit (a coarse bucket, never the exact width):
// "<600", "600-1023", "1024-1439", "1440+", or "" for 0 (unknown).
std::string_view ScreenClass(int screen_width);

}  // namespace footfall::core
