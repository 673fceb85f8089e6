// The one-line JSON record footfall writes for every request. It holds no client address, no
// headers and no query string — only the route template. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "core/http_message.h"

namespace footfall::core {

// {"time":"…","request_id":"…","method":"GET","route":"/count","status":200,"latency_us":812,
//  "batch":17}, plus "error" with the internal error behind a 5xx. `method` is reduced to a known
// verb or "OTHER".
std::string FormatRequestLogLine(TimePoint time, std::string_view request_id,
                                 std::string_view method, const Response& response,
                                 int64_t latency_us);

}  // namespace footfall::core
