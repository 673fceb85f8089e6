// Parsing of option values given on the command line or in the environment (host:port, lists).
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace footfall::cli {

struct HostPort {
  std::string host;
  uint16_t port = 0;
};

// Parses "127.0.0.1:8080", "[::1]:8080" or "localhost:0". Errors: kInvalidArgument.
StatusOr<HostPort> ParseHostPort(std::string_view text);

// Splits "a, b,,c" into {"a", "b", "c"} (trims spaces, drops empty entries).
std::vector<std::string> SplitList(std::string_view text);

}  // namespace footfall::cli
