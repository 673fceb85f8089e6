// UTC timestamps as footfall writes and reads them: Unix milliseconds <-> ISO 8601 text.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace footfall {

inline constexpr int64_t kDayMs = 86'400'000;

// "YYYY-MM-DDTHH:MM:SS.mmmZ" for `unix_ms` (years 1970..9999).
std::string FormatUtcMillis(int64_t unix_ms);

// Parses "YYYY-MM-DD" (then sets date_only), "YYYY-MM-DDTHH:MM:SSZ" or
// "YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC) into Unix milliseconds. Errors: kInvalidArgument, with the
// expected forms in the message.
StatusOr<int64_t> ParseUtcTime(std::string_view text, bool& date_only);

}  // namespace footfall
