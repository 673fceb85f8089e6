// The public per-page counter: which page a /counter/... target names, and the SVG badge.
// Pure; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace footfall::core {

enum class CounterFormat { kJson, kSvg };

struct CounterTarget {
  std::string path;  // the page path, normalised ("/" for the site root)
  CounterFormat format;
};

// "/counter/blog/post.json" -> {"/blog/post", kJson}; "/counter/.svg" -> {"/", kSvg}.
// nullopt when `route_path` does not start with "/counter/". Errors: kInvalidArgument for a
// bad extension or page path.
std::optional<StatusOr<CounterTarget>> ParseCounterTarget(std::string_view route_path);

// A flat badge "<label> | <count>" (text escaped for XML; width from the text length).
std::string CounterBadgeSvg(std::string_view label, int64_t count);

}  // namespace footfall::core
