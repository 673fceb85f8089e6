#include "core/stats_api.h"

#include <charconv>
#include <chrono>

#include "base/utc_time.h"
#include "core/responses.h"
#include "core/url.h"
#include "core/visit_identity.h"
#include "store/stats_rollup.h"

namespace footfall::core {
namespace {


std::string Iso(int64_t ms) { return FormatUtcMillis(ms); }

void AppendList(std::string& out, const char* name, const std::vector<store::NamedCount>& list,
                bool with_visitors) {
  out += ",\"";
  out += name;
  out += "\":[";
  for (size_t i = 0; i < list.size(); ++i) {
    if (i > 0) out += ',';
    out += "{\"name\":" + JsonQuote(list[i].name) + ",\"views\":" + std::to_string(list[i].views);
    if (with_visitors) out += ",\"visitor_days\":" + std::to_string(list[i].visitor_days);
    out += '}';
  }
  out += ']';
}

}  // namespace

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
  AppendList(out, "paths", stats.paths, true);
  AppendList(out, "referrers", stats.referrers, false);
  AppendList(out, "browsers", stats.browsers, false);
  AppendList(out, "systems", stats.systems, false);
  AppendList(out, "devices", stats.devices, false);
  AppendList(out, "screens", stats.screens, false);
  AppendList(out, "sources", stats.sources, false);
  AppendList(out, "drops", stats.drops, false);
  out += '}';
  return out;
}

}  // namespace footfall::core
