#include "core/stats_api.h"

#include <charconv>
#include <chrono>

#include "core/responses.h"
#include "core/url.h"
#include "core/visit_identity.h"

namespace footfall::core {
namespace {

constexpr int64_t kDayMs = 86'400'000;

bool ReadNumber(std::string_view text, size_t at, size_t width, int& out) {
  if (at + width > text.size()) return false;
  auto [end, ec] = std::from_chars(text.data() + at, text.data() + at + width, out);
  return ec == std::errc() && end == text.data() + at + width;
}

std::string Iso(int64_t ms) { return FormatIso8601Millis(TimePoint(std::chrono::milliseconds(ms))); }

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

StatusOr<int64_t> ParseUtcTime(std::string_view text, bool& date_only) {
  int year, month, day, hour = 0, minute = 0, second = 0, millis = 0;
  const auto bad = [&] {
    return InvalidArgumentError("'" + std::string(text.substr(0, 40)) +
                                "' is not YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ");
  };
  if (text.size() < 10 || text[4] != '-' || text[7] != '-' || !ReadNumber(text, 0, 4, year) ||
      !ReadNumber(text, 5, 2, month) || !ReadNumber(text, 8, 2, day)) {
    return bad();
  }
  date_only = text.size() == 10;
  if (!date_only) {
    if (text.size() != 20 && text.size() != 24) return bad();
    if (text[10] != 'T' || text[13] != ':' || text[16] != ':' || text.back() != 'Z' ||
        !ReadNumber(text, 11, 2, hour) || !ReadNumber(text, 14, 2, minute) ||
        !ReadNumber(text, 17, 2, second)) {
      return bad();
    }
    if (text.size() == 24 && (text[19] != '.' || !ReadNumber(text, 20, 3, millis))) return bad();
    if (hour > 23 || minute > 59 || second > 59) return bad();
  }
  using namespace std::chrono;
  const year_month_day date{std::chrono::year(year), std::chrono::month(static_cast<unsigned>(month)),
                            std::chrono::day(static_cast<unsigned>(day))};
  if (!date.ok() || year < 1970 || year > 9999) return bad();
  const int64_t days = sys_days(date).time_since_epoch().count();
  return days * kDayMs + ((hour * 60 + minute) * 60 + second) * 1000LL + millis;
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
  AppendList(out, "drops", stats.drops, false);
  out += '}';
  return out;
}

}  // namespace footfall::core
