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
#include <string_view>
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
// "source" and the campaign's "utm_source", "utm_medium", "utm_campaign", "utm_content",
// "utm_term" (the dimensions of a page view; a visit without a value for a kind adds nothing to
// it; custom events add to no dimension).
using DimensionKey = std::tuple<std::string, int64_t, std::string, std::string>;

// Per (site, path) — path "" is the whole site.
using PageKey = std::pair<std::string, std::string>;

struct Rollup {
  std::map<HourKey, HourDelta> hours;
  std::map<DimensionKey, int64_t> dimensions;
  std::map<PageKey, int64_t> page_views;  // page views ("" and page paths) ever
};

// The keys of the per-(site, hour, key) aggregates (hourly_stats and its daily sums on the SQL
// engines, the hour items' counters and visitor sets on DynamoDB). Each key has views and unique
// visitors per day. "" is the whole site and a page path (always starting with "/") one page; the
// other keys cannot be page paths:
//   "event:<name>"                          a custom event
//   "prop:<event>\x1f<key>\x1f<value>"      one value of one property ("pageview" for page views)
//   "goal:<goal>"                           a configured goal reached ("page:/docs/*", "event:x")
// Names, keys and values never hold control characters, so the separator \x1f cannot be forged.
inline constexpr std::string_view kEventKeyPrefix = "event:";
inline constexpr std::string_view kPropKeyPrefix = "prop:";
inline constexpr std::string_view kGoalKeyPrefix = "goal:";
inline constexpr char kKeySeparator = '\x1f';
inline bool IsPageKey(std::string_view key) { return !key.empty() && key.front() == '/'; }
// The event name of a visit's properties: its custom event, or "pageview".
std::string_view PropEventName(const Visit& visit);
// "prop:<event>\x1f": the prefix of every property key of `event`.
std::string PropKeysPrefix(std::string_view event);

// Every aggregate key `visit` adds one view to: a page view adds to "" and its path, a custom
// event to its event key; both to their properties' keys and their goals' keys.
std::vector<std::string> AggregateKeysOf(const Visit& visit);

// A (day, site, key, visitor) whose first visit makes the visitor new there.
struct SeenKey {
  int64_t day = 0;
  std::string site;
  std::string path;  // an aggregate key (above)
  std::string visitor;
  auto operator<=>(const SeenKey&) const = default;
};
// The keys RollUp asks MarkSeen about for `visit`: its day and site, for each of
// AggregateKeysOf(visit). Engines that look them up before a batch is rolled up use this.
std::vector<SeenKey> SeenKeys(const Visit& visit);

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
  // Aggregate keys but "" with views and visitor-days: at least the top pages, every event and
  // goal key and the property keys of query.event (PropKeysPrefix); other keys are ignored.
  std::vector<NamedCount> paths;
  std::map<std::string, std::vector<NamedCount>> dimensions;  // kind -> values
  std::vector<NamedCount> drops;
};

// Fills empty buckets with zeros, sorts lists by views (then name) and keeps the top N; sorts the
// aggregate keys of `rows.paths` into pages, events, goals and properties.
Stats BuildStats(const StatsQuery& query, StatsRows rows);

}  // namespace footfall::store
