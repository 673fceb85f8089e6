// The statistics every engine keeps, computed the same way everywhere: write-time aggregates
// (rollups) of a batch of visits, and the assembly of a Stats answer from aggregated rows.
// Aggregates hold no visitor identifier. Pure functions; thread-safe.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "base/status.h"
#include "store/store.h"

namespace footfall::store {

inline constexpr int64_t kMillisPerHour = 3'600'000;
inline int64_t HourOf(int64_t time_ms) {
  return time_ms >= 0 ? time_ms / kMillisPerHour : (time_ms - kMillisPerHour + 1) / kMillisPerHour;
}
inline int64_t DayOfHour(int64_t hour) { return hour >= 0 ? hour / 24 : (hour - 23) / 24; }

// Per (site, hour, path) — path "" is the whole site.
using HourKey = std::tuple<std::string, int64_t, std::string>;
struct HourDelta {
  int64_t views = 0;
  int64_t new_visitors = 0;
};
// Per (site, day, kind, value), kind one of "referrer", "browser", "os", "device", "screen",
// "source" (the dimensions of a Visit; a visit without a value for a kind adds nothing to it).
using DimensionKey = std::tuple<std::string, int64_t, std::string, std::string>;

// Per (site, path) — path "" is the whole site.
using PageKey = std::pair<std::string, std::string>;

struct Rollup {
  std::map<HourKey, HourDelta> hours;
  std::map<DimensionKey, int64_t> dimensions;
  std::map<PageKey, int64_t> page_views;  // the hours' views summed over the hours
};

// A (day, site, path, visitor) whose first visit makes the visitor new there.
struct SeenKey {
  int64_t day = 0;
  std::string site;
  std::string path;
  std::string visitor;
  auto operator<=>(const SeenKey&) const = default;
};
// The keys RollUp asks MarkSeen about for `visit`: its day and site, for the whole site (path
// "") and for its own path. Engines that look them up before a batch is rolled up use this.
std::array<SeenKey, 2> SeenKeys(const Visit& visit);

// Returns true if `visitor` had not been seen on (`day`, `site`, `path`) before, and remembers it.
using MarkSeen = std::function<bool(int64_t day, const std::string& site, const std::string& path,
                                    const std::string& visitor)>;

// Aggregates `visits` (the ones a transaction is storing) into deltas. Asks `mark_seen` about each
// visit's SeenKeys, once per key in the batch (a later visit with the same key is not new).
Rollup RollUp(const std::vector<const Visit*>& visits, const MarkSeen& mark_seen);

// Errors: kInvalidArgument when from >= to, the range exceeds 400 days (31 for hourly series),
// or top is outside 1..100. Bounded ranges keep every answer small.
Status ValidateStatsQuery(const StatsQuery& query);

// First and last (exclusive) hour of the query's range.
int64_t FirstHour(const StatsQuery& query);
int64_t EndHour(const StatsQuery& query);

// Aggregated pieces an engine fetches for a query, then BuildStats assembles the answer.
struct StatsRows {
  std::map<int64_t, HourDelta> buckets;   // bucket (hour or day number) -> sums, for query.path
  std::map<int64_t, int64_t> daily_new;   // day -> new visitors, for query.path
  std::vector<NamedCount> paths;          // every path with views and visitor-days
  std::map<std::string, std::vector<NamedCount>> dimensions;  // kind -> values
  std::vector<NamedCount> drops;
};

// Fills empty buckets with zeros, sorts lists by views (then name) and keeps the top N.
Stats BuildStats(const StatsQuery& query, StatsRows rows);

}  // namespace footfall::store
