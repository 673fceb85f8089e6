#include "store/stats_rollup.h"

#include <algorithm>
#include <set>
#include <string_view>
#include <tuple>

namespace footfall::store {

std::string_view PropEventName(const Visit& visit) {
  return visit.is_page_view() ? std::string_view("pageview") : std::string_view(visit.event);
}

std::string PropKeysPrefix(std::string_view event) {
  std::string prefix(kPropKeyPrefix);
  prefix += event;
  prefix += kKeySeparator;
  return prefix;
}

std::vector<std::string> AggregateKeysOf(const Visit& visit) {
  std::vector<std::string> keys;
  keys.reserve(2 + visit.props.size() + visit.goals.size());
  if (visit.is_page_view()) {
    keys.emplace_back();  // the whole site
    keys.push_back(visit.path);
  } else {
    keys.push_back(std::string(kEventKeyPrefix) + visit.event);
  }
  if (!visit.props.empty()) {
    const std::string prefix = PropKeysPrefix(PropEventName(visit));
    for (const auto& [key, value] : visit.props) {
      keys.push_back(prefix + key + kKeySeparator + value);
    }
  }
  for (const std::string& goal : visit.goals) keys.push_back(std::string(kGoalKeyPrefix) + goal);
  return keys;
}

std::vector<SeenKey> SeenKeys(const Visit& visit) {
  const int64_t day = DayOfHour(HourOf(visit.time_ms));
  std::vector<SeenKey> seen;
  for (std::string& key : AggregateKeysOf(visit)) {
    seen.push_back(SeenKey{day, visit.site, std::move(key), visit.visitor});
  }
  return seen;
}

Rollup RollUp(const std::vector<const Visit*>& visits, const MarkSeen& mark_seen) {
  Rollup rollup;
  // A (day, site, key, visitor) asked once in this batch is seen by any later ask: answer those
  // here (false) rather than asking the store again.
  std::set<SeenKey> asked;
  for (const Visit* visit : visits) {
    const int64_t hour = HourOf(visit->time_ms);
    const int64_t day = DayOfHour(hour);
    for (std::string& key : AggregateKeysOf(*visit)) {
      HourDelta& delta = rollup.hours[{visit->site, hour, key}];
      ++delta.views;
      if (asked.insert(SeenKey{day, visit->site, key, visit->visitor}).second &&
          mark_seen(day, visit->site, key, visit->visitor)) {
        ++delta.new_visitors;
      }
      if (key.empty() || IsPageKey(key)) ++rollup.page_views[{visit->site, std::move(key)}];
    }
    if (!visit->is_page_view()) continue;  // a custom event is not a view of the site
    auto count = [&](const char* kind, const std::string& value) {
      if (!value.empty()) ++rollup.dimensions[{visit->site, day, kind, value}];
    };
    count("referrer", visit->referrer);
    count("browser", visit->browser);
    count("os", visit->os);
    count("device", visit->device);
    count("screen", visit->screen);
    count("source", visit->source);
    count("utm_source", visit->campaign.source);
    count("utm_medium", visit->campaign.medium);
    count("utm_campaign", visit->campaign.name);
    count("utm_content", visit->campaign.content);
    count("utm_term", visit->campaign.term);
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
  const std::string props_prefix = query.event.empty() ? "" : PropKeysPrefix(query.event);
  for (NamedCount& row : rows.paths) {
    std::string_view key = row.name;
    if (IsPageKey(key)) {
      stats.paths.push_back(std::move(row));
    } else if (key.starts_with(kEventKeyPrefix)) {
      row.name.erase(0, kEventKeyPrefix.size());
      stats.events.push_back(std::move(row));
    } else if (key.starts_with(kGoalKeyPrefix)) {
      row.name.erase(0, kGoalKeyPrefix.size());
      stats.goals.push_back(std::move(row));
    } else if (!props_prefix.empty() && key.starts_with(props_prefix)) {
      key.remove_prefix(props_prefix.size());
      const size_t separator = key.find(kKeySeparator);
      if (separator == std::string_view::npos) continue;
      stats.props[std::string(key.substr(0, separator))].push_back(
          {std::string(key.substr(separator + 1)), row.views, row.visitor_days});
    }
  }
  SortAndTrim(stats.paths, query.top);
  SortAndTrim(stats.events, query.top);
  SortAndTrim(stats.goals, 100);
  for (auto& [key, values] : stats.props) SortAndTrim(values, query.top);
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
  take("utm_source", stats.campaign_sources);
  take("utm_medium", stats.campaign_mediums);
  take("utm_campaign", stats.campaign_names);
  take("utm_content", stats.campaign_contents);
  take("utm_term", stats.campaign_terms);
  stats.drops = std::move(rows.drops);
  SortAndTrim(stats.drops, 100);
  return stats;
}

}  // namespace footfall::store
