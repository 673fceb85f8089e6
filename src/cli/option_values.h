// Parsing of option values given on the command line or in the environment (host:port, lists).
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace footfall::cli {

// The --store option's help, the same for every command that takes one.
inline constexpr const char* kStoreOptionHelp =
    "Store URI: sqlite:PATH (a file, created if missing), "
    "postgres://USER@HOST:PORT/DB[?libpq parameters], "
    "dynamodb://TABLE[?region=R&endpoint=URL&shards=N] (keys or a role from the environment, "
    "as the AWS SDKs find them), or memory: (lost on exit)";

struct HostPort {
  std::string host;
  uint16_t port = 0;
};

// Parses "127.0.0.1:8080", "[::1]:8080" or "localhost:0". Errors: kInvalidArgument.
StatusOr<HostPort> ParseHostPort(std::string_view text);

// Splits "a, b,,c" into {"a", "b", "c"} (trims spaces, drops empty entries).
std::vector<std::string> SplitList(std::string_view text);

}  // namespace footfall::cli
