#include "core/stats_api.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>

#include "base/utc_time.h"
#include "core/campaign.h"
#include "core/event_body.h"
#include "core/responses.h"
#include "core/url.h"
#include "core/visit_identity.h"
#include "store/stats_rollup.h"

namespace footfall::core {
namespace {


std::string Iso(int64_t ms) { return FormatUtcMillis(ms); }

// What a list's entries hold besides their name.
enum class Entry {
  kViews,                // "views"
  kViewsAndVisitors,     // "views", "visitor_days"
  kCountAndVisitors,     // "count", "visitor_days" (events and their properties)
  kReferrer,             // "views", and "source_name" for a well-known host
};

// `"name":[…]` (no leading comma).
void AppendNamedList(std::string& out, std::string_view name,
                     const std::vector<store::NamedCount>& list, Entry entry) {
  out += JsonQuote(name);
  out += ":[";
  for (size_t i = 0; i < list.size(); ++i) {
    if (i > 0) out += ',';
    out += "{\"name\":" + JsonQuote(list[i].name);
    out += entry == Entry::kCountAndVisitors ? ",\"count\":" : ",\"views\":";
    out += std::to_string(list[i].views);
    if (entry == Entry::kViewsAndVisitors || entry == Entry::kCountAndVisitors) {
      out += ",\"visitor_days\":" + std::to_string(list[i].visitor_days);
    }
    if (entry == Entry::kReferrer) {
      if (std::string_view source = ReferrerSourceName(list[i].name); !source.empty()) {
        out += ",\"source_name\":" + JsonQuote(source);
      }
    }
    out += '}';
  }
  out += ']';
}

void AppendList(std::string& out, const char* name, const std::vector<store::NamedCount>& list,
                Entry entry) {
  out += ',';
  AppendNamedList(out, name, list, entry);
}

// Goals with their conversion rate: the goal's visitor-days over the site's, 4 decimals; null
// for a page's statistics (path=), whose visitor-days are not the site's.
void AppendGoals(std::string& out, const store::StatsQuery& query, const store::Stats& stats) {
  out += ",\"goals\":[";
  for (size_t i = 0; i < stats.goals.size(); ++i) {
    const store::NamedCount& goal = stats.goals[i];
    if (i > 0) out += ',';
    out += "{\"goal\":" + JsonQuote(goal.name) + ",\"count\":" + std::to_string(goal.views) +
           ",\"visitor_days\":" + std::to_string(goal.visitor_days) + ",\"conversion_rate\":";
    if (!query.path.empty()) {
      out += "null";
    } else {
      char rate[32];
      std::snprintf(rate, sizeof rate, "%.4f", ConversionRate(goal, stats));
      out += rate;
    }
    out += '}';
  }
  out += ']';
}

}  // namespace

double ConversionRate(const store::NamedCount& goal, const store::Stats& stats) {
  if (stats.visitor_days <= 0) return 0;
  return std::min(1.0, static_cast<double>(goal.visitor_days) / static_cast<double>(stats.visitor_days));
}

void ListConfiguredGoals(const Goals& goals, store::Stats& stats) {
  std::vector<store::NamedCount> listed;
  for (const std::string& name : goals.names()) {
    auto found = std::find_if(stats.goals.begin(), stats.goals.end(),
                              [&name](const store::NamedCount& goal) { return goal.name == name; });
    if (found == stats.goals.end()) {
      listed.push_back({name, 0, 0});
    } else {
      listed.push_back(std::move(*found));
      stats.goals.erase(found);
    }
  }
  // Goals reached while they were configured and no longer are: still shown, after the others.
  for (store::NamedCount& goal : stats.goals) listed.push_back(std::move(goal));
  stats.goals = std::move(listed);
}

StatusOr<store::StatsQuery> ParseStatsQuery(const QueryParameters& params, TimePoint now,
                                            const std::string& default_site) {
  store::StatsQuery query;
  query.site = std::string(FindParameter(params, "site").value_or(default_site));
  const int64_t now_ms = UnixMillis(now);
  query.to_ms = now_ms + 1;  // up to and including now
  query.from_ms = query.to_ms - 30 * kDayMs;
  if (auto from = FindParameter(params, "from")) {
    bool date_only = false;
    StatusOr<int64_t> parsed = ParseUtcTime(*from, date_only);
    if (!parsed.ok()) return InvalidArgumentError("from: " + parsed.status().message());
    query.from_ms = *parsed;
  }
  if (auto to = FindParameter(params, "to")) {
    bool date_only = false;
    StatusOr<int64_t> parsed = ParseUtcTime(*to, date_only);
    if (!parsed.ok()) return InvalidArgumentError("to: " + parsed.status().message());
    query.to_ms = date_only ? *parsed + kDayMs : *parsed;
  }
  const std::string_view interval = FindParameter(params, "interval").value_or("day");
  if (interval == "hour") {
    query.interval = store::Interval::kHour;
  } else if (interval != "day") {
    return InvalidArgumentError("interval must be 'hour' or 'day'");
  }
  if (auto path = FindParameter(params, "path"); path && !path->empty()) {
    StatusOr<std::string> normalized = NormalizePagePath(*path);
    if (!normalized.ok()) return InvalidArgumentError("path: " + normalized.status().message());
    query.path = *normalized;
  }
  if (auto top = FindParameter(params, "top")) {
    auto [end, ec] = std::from_chars(top->data(), top->data() + top->size(), query.top);
    if (ec != std::errc() || end != top->data() + top->size()) {
      return InvalidArgumentError("top must be a number 1..100");
    }
  }
  if (auto event = FindParameter(params, "event"); event && !event->empty()) {
    if (Status valid = CheckEventName(*event); !valid.ok()) {
      return InvalidArgumentError("event: " + valid.message());
    }
    query.event = std::string(*event);
  }
  RETURN_IF_ERROR(store::ValidateStatsQuery(query));
  return query;
}

std::string FormatStatsJson(const store::StatsQuery& query, const store::Stats& stats) {
  std::string out;
  out.reserve(1024 + stats.series.size() * 80);
  out += "{\"site\":" + JsonQuote(query.site);
  out += ",\"from\":" + JsonQuote(Iso(query.from_ms));
  out += ",\"to\":" + JsonQuote(Iso(query.to_ms));
  out += ",\"interval\":";
  out += query.interval == store::Interval::kHour ? "\"hour\"" : "\"day\"";
  out += ",\"path\":" + JsonQuote(query.path);
  out += ",\"views\":" + std::to_string(stats.views);
  out += ",\"visitor_days\":" + std::to_string(stats.visitor_days);
  out += ",\"peak_daily_visitors\":" + std::to_string(stats.peak_daily_visitors);
  out += ",\"uniques\":\"Visitors are recognised only within one UTC day (the hash key changes "
         "daily). visitor_days sums each day's unique visitors over the range; it is not a "
         "count of people.\"";
  out += ",\"series\":[";
  for (size_t i = 0; i < stats.series.size(); ++i) {
    if (i > 0) out += ',';
    out += "{\"start\":" + JsonQuote(Iso(stats.series[i].start_ms)) +
           ",\"views\":" + std::to_string(stats.series[i].views) +
           ",\"new_visitors\":" + std::to_string(stats.series[i].new_visitors) + "}";
  }
  out += ']';
  AppendList(out, "paths", stats.paths, Entry::kViewsAndVisitors);
  AppendList(out, "referrers", stats.referrers, Entry::kReferrer);
  AppendList(out, "browsers", stats.browsers, Entry::kViews);
  AppendList(out, "systems", stats.systems, Entry::kViews);
  AppendList(out, "devices", stats.devices, Entry::kViews);
  AppendList(out, "screens", stats.screens, Entry::kViews);
  AppendList(out, "sources", stats.sources, Entry::kViews);
  AppendList(out, "drops", stats.drops, Entry::kViews);
  AppendList(out, "events", stats.events, Entry::kCountAndVisitors);
  if (!query.event.empty()) {
    out += ",\"event\":" + JsonQuote(query.event) + ",\"props\":{";
    bool first = true;
    for (const auto& [key, values] : stats.props) {
      if (!first) out += ',';
      first = false;
      AppendNamedList(out, key, values, Entry::kCountAndVisitors);
    }
    out += '}';
  }
  AppendGoals(out, query, stats);
  out += ",\"campaigns\":{";
  AppendNamedList(out, "sources", stats.campaign_sources, Entry::kViews);
  AppendList(out, "mediums", stats.campaign_mediums, Entry::kViews);
  AppendList(out, "campaigns", stats.campaign_names, Entry::kViews);
  AppendList(out, "contents", stats.campaign_contents, Entry::kViews);
  AppendList(out, "terms", stats.campaign_terms, Entry::kViews);
  out += "}}";
  return out;
}

}  // namespace footfall::core
