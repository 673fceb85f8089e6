// libFuzzer target: arbitrary bytes as the query string of GET /api/stats (core::ParseQuery,
// core::ParseStatsQuery, store::ValidateStatsQuery), and as a timestamp (ParseUtcTime). A valid
// query must have a bounded range; a parsed time must be in 1970..9999 and be what
// FormatUtcMillis writes for it (the only spelling of each instant ParseUtcTime accepts).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/utc_time.h"
#include "core/stats_api.h"
#include "core/url.h"
#include "store/stats_rollup.h"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

// 10000-01-01T00:00:00Z: the first instant ParseUtcTime must refuse.
constexpr int64_t kYear10000Ms = 253'402'300'800'000;

void CheckTime(std::string_view text) {
  bool date_only = false;
  auto parsed = footfall::ParseUtcTime(text, date_only);
  if (!parsed.ok()) return;
  Check(*parsed >= 0 && *parsed < kYear10000Ms);
  Check(date_only == (text.size() == 10));
  if (date_only) Check(*parsed % footfall::kDayMs == 0);
  const std::string formatted = footfall::FormatUtcMillis(*parsed);
  if (date_only) {
    Check(formatted == std::string(text) + "T00:00:00.000Z");
  } else if (text.size() == 20) {
    Check(formatted == std::string(text.substr(0, 19)) + ".000Z");
  } else {
    Check(formatted == text);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  CheckTime(input);

  auto params = footfall::core::ParseQuery(input);
  if (!params.ok()) return 0;
  Check(params->size() <= footfall::core::kMaxQueryParameters);
  for (const auto& [name, value] : *params) {
    if (name == "from" || name == "to") CheckTime(value);
  }
  // 2026-11-25T13:20:00Z, as in the service tests.
  const footfall::TimePoint now{std::chrono::milliseconds(1'795'612'800'000)};
  auto query = footfall::core::ParseStatsQuery(*params, now, "site.example");
  if (!query.ok()) {
    Check(!query.status().message().empty());
    return 0;
  }
  if (!footfall::store::ValidateStatsQuery(*query).ok()) return 0;
  const int64_t hours = footfall::store::EndHour(*query) - footfall::store::FirstHour(*query);
  Check(hours > 0 && hours <= 400 * 24);
  Check(query->top >= 1 && query->top <= 100);
  Check(query->path.empty() || query->path.front() == '/');
  return 0;
}
