#include "store/stats_rollup.h"

#include <algorithm>
#include <set>
#include <string_view>
#include <tuple>

namespace footfall::store {

std::array<SeenKey, 2> SeenKeys(const Visit& visit) {
  const int64_t day = DayOfHour(HourOf(visit.time_ms));
  return {SeenKey{day, visit.site, "", visit.visitor},
          SeenKey{day, visit.site, visit.path, visit.visitor}};
}

Rollup RollUp(const std::vector<const Visit*>& visits, const MarkSeen& mark_seen) {
  Rollup rollup;
  // A (day, site, path, visitor) asked once in this batch is seen by any later ask: answer those
  // here (false) rather than asking the store again. Views into `visits`, which outlive this call.
  std::set<std::tuple<int64_t, std::string_view, std::string_view, std::string_view>> asked;
  for (const Visit* visit : visits) {
    const int64_t hour = HourOf(visit->time_ms);
    const int64_t day = DayOfHour(hour);
    static const std::string kWholeSite;  // path '' is the whole site
    for (const std::string* path : {&kWholeSite, &visit->path}) {
      HourDelta& delta = rollup.hours[{visit->site, hour, *path}];
      ++delta.views;
      ++rollup.page_views[{visit->site, *path}];
      if (asked.emplace(day, visit->site, *path, visit->visitor).second &&
          mark_seen(day, visit->site, *path, visit->visitor)) {
        ++delta.new_visitors;
      }
    }
    auto count = [&](const char* kind, const std::string& value) {
      if (!value.empty()) ++rollup.dimensions[{visit->site, day, kind, value}];
    };
    count("referrer", visit->referrer);
    count("browser", visit->browser);
    count("os", visit->os);
    count("device", visit->device);
    count("screen", visit->screen);
    count("source", visit->source);
  }
  return rollup;
}

int64_t FirstHour(const StatsQuery& query) { return HourOf(query.from_ms); }
int64_t EndHour(const StatsQuery& query) { return HourOf(query.to_ms - 1) + 1; }

Status ValidateStatsQuery(const StatsQuery& query) {
  if (query.from_ms >= query.to_ms) return InvalidArgumentError("'from' must be before 'to'");
  const int64_t hours = EndHour(query) - FirstHour(query);
  if (hours > 400 * 24) return InvalidArgumentError("the range may cover at most 400 days");
  if (query.interval == Interval::kHour && hours > 31 * 24) {
    return InvalidArgumentError("an hourly series may cover at most 31 days");
  }
  if (query.top < 1 || query.top > 100) return InvalidArgumentError("'top' must be 1..100");
  return OkStatus();
}

namespace {

void SortAndTrim(std::vector<NamedCount>& list, int top) {
  std::sort(list.begin(), list.end(), [](const NamedCount& a, const NamedCount& b) {
    return a.views != b.views ? a.views > b.views : a.name < b.name;
  });
  if (list.size() > static_cast<size_t>(top)) list.resize(static_cast<size_t>(top));
}

}  // namespace

Stats BuildStats(const StatsQuery& query, StatsRows rows) {
  Stats stats;
  const bool hourly = query.interval == Interval::kHour;
  const int64_t first = hourly ? FirstHour(query) : DayOfHour(FirstHour(query));
  const int64_t last = hourly ? EndHour(query) - 1 : DayOfHour(EndHour(query) - 1);
  const int64_t bucket_ms = hourly ? kMillisPerHour : 24 * kMillisPerHour;
  for (int64_t bucket = first; bucket <= last; ++bucket) {
    const HourDelta sums = rows.buckets.count(bucket) ? rows.buckets[bucket] : HourDelta{};
    stats.series.push_back({bucket * bucket_ms, sums.views, sums.new_visitors});
    stats.views += sums.views;
    stats.visitor_days += sums.new_visitors;
  }
  for (const auto& [day, visitors] : rows.daily_new) {
    stats.peak_daily_visitors = std::max(stats.peak_daily_visitors, visitors);
  }
  stats.paths = std::move(rows.paths);
  SortAndTrim(stats.paths, query.top);
  auto take = [&](const char* kind, std::vector<NamedCount>& out) {
    out = std::move(rows.dimensions[kind]);
    SortAndTrim(out, query.top);
  };
  take("referrer", stats.referrers);
  take("browser", stats.browsers);
  take("os", stats.systems);
  take("device", stats.devices);
  take("screen", stats.screens);
  take("source", stats.sources);
  stats.drops = std::move(rows.drops);
  SortAndTrim(stats.drops, 100);
  return stats;
}

}  // namespace footfall::store
