#include "core/dashboard.h"

#include <algorithm>
#include <cstdio>
#include <functional>

#include <openssl/sha.h>

#include "base/base64.h"
#include "base/utc_time.h"
#include "core/campaign.h"
#include "core/stats_api.h"
#include "core/text.h"

namespace footfall::core {
namespace {

// System fonts only; one column on phones, two on wide screens. No url(), no @import.
constexpr std::string_view kStyle = R"css(
:root{color-scheme:light dark;--fg:#1d2327;--muted:#5f6b73;--bg:#fff;--card:#f5f7f8;--bar:#2f7dd1;--bar2:#e4873b}
@media (prefers-color-scheme:dark){:root{--fg:#e6e9eb;--muted:#9aa6ad;--bg:#15191c;--card:#1f2529;--bar:#5a9ee6;--bar2:#f0a060}}
*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:1100px;margin:0 auto;padding:16px}h1{font-size:1.35rem;margin:0 0 4px}h2{font-size:1rem;margin:0 0 8px}
.muted{color:var(--muted);font-size:.85rem}.ranges a{margin-right:10px;color:var(--bar)}
.tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:10px;margin:14px 0}
.tile,.card{background:var(--card);border-radius:8px;padding:12px}.tile b{display:block;font-size:1.5rem}
.grid{display:grid;grid-template-columns:1fr;gap:12px}@media (min-width:760px){.grid{grid-template-columns:1fr 1fr}}
svg{display:block;width:100%;height:auto}.chart text{font-size:11px}
table{width:100%;border-collapse:collapse;font-size:.9rem}td{padding:3px 4px;vertical-align:top}
td.n{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}td.name{word-break:break-all;width:60%}
.meter{height:6px;background:var(--bar);border-radius:3px;margin-top:2px}
form{margin:8px 0}input{font:inherit;padding:2px 4px;max-width:9.5em}
)css";

std::string Number(int64_t value) {
  // 1234567 -> "1,234,567"
  std::string digits = std::to_string(value < 0 ? -value : value);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return value < 0 ? "-" + out : out;
}

std::string Fixed(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f", value);
  return buffer;
}

// The series as bars (views) with a line of new visitors, in a fixed viewBox that scales.
std::string SeriesChart(const store::StatsQuery& query, const store::Stats& stats) {
  constexpr double kWidth = 1000, kHeight = 220, kLeft = 48, kBottom = 24, kTop = 8;
  const double plot_width = kWidth - kLeft - 8, plot_height = kHeight - kBottom - kTop;
  int64_t peak = 1;
  for (const store::SeriesPoint& point : stats.series) peak = std::max(peak, point.views);
  const size_t n = std::max<size_t>(1, stats.series.size());
  const double slot = plot_width / static_cast<double>(n);
  std::string svg = "<svg class=\"chart\" viewBox=\"0 0 1000 220\" role=\"img\" aria-label=\"Views and new visitors per " +
                    std::string(query.interval == store::Interval::kHour ? "hour" : "day") +
                    "\"><title>Views per bucket (bars) and new visitors (line)</title>";
  // Grid lines and labels: 0, half, peak.
  for (int step = 0; step <= 2; ++step) {
    const double y = kTop + plot_height * (1 - step / 2.0);
    svg += "<line x1=\"" + Fixed(kLeft) + "\" x2=\"" + Fixed(kWidth - 8) + "\" y1=\"" + Fixed(y) +
           "\" y2=\"" + Fixed(y) + "\" stroke=\"currentColor\" stroke-opacity=\"0.15\"/>";
    svg += "<text x=\"" + Fixed(kLeft - 6) + "\" y=\"" + Fixed(y + 4) +
           "\" text-anchor=\"end\" fill=\"currentColor\">" + Number(peak * step / 2) + "</text>";
  }
  std::string line;
  for (size_t i = 0; i < stats.series.size(); ++i) {
    const store::SeriesPoint& point = stats.series[i];
    const double height = plot_height * static_cast<double>(point.views) / static_cast<double>(peak);
    const double x = kLeft + slot * static_cast<double>(i);
    const std::string label = FormatUtcMillis(point.start_ms).substr(0, query.interval == store::Interval::kHour ? 16 : 10);
    svg += "<rect class=\"bar\" x=\"" + Fixed(x + slot * 0.1) + "\" y=\"" + Fixed(kTop + plot_height - height) +
           "\" width=\"" + Fixed(std::max(1.0, slot * 0.8)) + "\" height=\"" + Fixed(height) +
           "\" fill=\"#2f7dd1\"><title>" + label + ": " + Number(point.views) + " views, " +
           Number(point.new_visitors) + " new visitors</title></rect>";
    const double y_new = kTop + plot_height * (1 - static_cast<double>(point.new_visitors) / static_cast<double>(peak));
    line += (i == 0 ? "" : " ") + Fixed(x + slot / 2) + "," + Fixed(y_new);
  }
  if (!line.empty()) {
    svg += "<polyline points=\"" + line + "\" fill=\"none\" stroke=\"#e4873b\" stroke-width=\"2\"/>";
  }
  // First and last bucket labels.
  if (!stats.series.empty()) {
    const int width = query.interval == store::Interval::kHour ? 16 : 10;
    svg += "<text x=\"" + Fixed(kLeft) + "\" y=\"" + Fixed(kHeight - 6) + "\" fill=\"currentColor\">" +
           FormatUtcMillis(stats.series.front().start_ms).substr(0, width) + "</text>";
    svg += "<text x=\"" + Fixed(kWidth - 8) + "\" y=\"" + Fixed(kHeight - 6) +
           "\" text-anchor=\"end\" fill=\"currentColor\">" +
           FormatUtcMillis(stats.series.back().start_ms).substr(0, width) + "</text>";
  }
  return svg + "</svg>";
}

// A card with one row per entry: its name (or, given `link`, a link named so), a bar, its views
// and, with `with_visitors`, its visitor-days.
std::string ListCard(std::string_view title, const std::vector<store::NamedCount>& list,
                     bool with_visitors, std::string_view empty_name = "(none)",
                     const std::function<std::string(const std::string&)>& link = nullptr) {
  std::string html = "<section class=\"card\"><h2>" + HtmlEscape(title) + "</h2>";
  if (list.empty()) return html + "<p class=\"muted\">Nothing in this range.</p></section>";
  int64_t top = 1;
  for (const store::NamedCount& entry : list) top = std::max(top, entry.views);
  html += "<table>";
  for (const store::NamedCount& entry : list) {
    const double percent = 100.0 * static_cast<double>(entry.views) / static_cast<double>(top);
    const std::string name = HtmlEscape(entry.name.empty() ? empty_name : entry.name);
    html += "<tr><td class=\"name\">" +
            (link ? "<a href=\"" + HtmlEscape(link(entry.name)) + "\">" + name + "</a>" : name) +
            "<svg viewBox=\"0 0 100 4\" preserveAspectRatio=\"none\" aria-hidden=\"true\"><rect width=\"" +
            Fixed(std::max(percent, 0.5)) + "\" height=\"4\" fill=\"#2f7dd1\"/></svg></td><td class=\"n\">" +
            Number(entry.views) + "</td>";
    if (with_visitors) html += "<td class=\"n\">" + Number(entry.visitor_days) + "</td>";
    html += "</tr>";
  }
  return html + "</table></section>";
}

// Goals with their conversion rate (none for a page's statistics: its visitor-days are not the
// site's).
std::string GoalsCard(const store::StatsQuery& query, const store::Stats& stats) {
  std::string html = "<section class=\"card\"><h2>Goals (count, visitor-days, conversion)</h2>";
  if (stats.goals.empty()) {
    return html + "<p class=\"muted\">No goals configured (serve --goals).</p></section>";
  }
  html += "<table>";
  for (const store::NamedCount& goal : stats.goals) {
    html += "<tr><td class=\"name\">" + HtmlEscape(goal.name) + "</td><td class=\"n\">" +
            Number(goal.views) + "</td><td class=\"n\">" + Number(goal.visitor_days) +
            "</td><td class=\"n\">" +
            (query.path.empty() ? Fixed(100 * ConversionRate(goal, stats)) + "%" : "–") + "</td></tr>";
  }
  return html + "</table><p class=\"muted\">Conversion: the goal's visitor-days over the site's, "
                "in this range.</p></section>";
}

}  // namespace

const std::string& DashboardContentSecurityPolicy() {
  static const std::string policy = [] {
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(kStyle.data()), kStyle.size(), digest);
    return "default-src 'none'; style-src 'sha256-" +
           Base64Encode(std::string_view(reinterpret_cast<const char*>(digest), sizeof digest)) +
           "'; img-src data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
  }();
  return policy;
}

std::string RenderDashboard(const store::StatsQuery& query, const store::Stats& stats) {
  const bool hourly = query.interval == store::Interval::kHour;
  const std::string from = FormatUtcMillis(query.from_ms).substr(0, 10);
  const std::string to = FormatUtcMillis(query.to_ms - 1).substr(0, 10);
  int64_t dropped = 0;
  for (const store::NamedCount& drop : stats.drops) dropped += drop.views;
  const std::string site = HtmlEscape(query.site);
  const std::string site_param = "site=" + site;  // escaped, and a host has no & or =
  std::string html =
      "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
      "<meta name=\"referrer\" content=\"no-referrer\"><link rel=\"icon\" href=\"data:,\">"
      "<title>footfall: " + site +
      "</title><style>" + std::string(kStyle) + "</style></head><body><main>";
  html += "<h1>" + site + (query.path.empty() ? "" : " <span class=\"muted\">" + HtmlEscape(query.path) + "</span>") +
          "</h1><p class=\"muted\">" + from + " to " + to + " (UTC), by " + (hourly ? "hour" : "day") +
          "</p><p class=\"ranges\"><a href=\"?" + site_param + "&amp;from=" +
          FormatUtcMillis(query.to_ms - 7 * kDayMs).substr(0, 10) + "\">7 days</a><a href=\"?" + site_param +
          "\">30 days</a><a href=\"?" + site_param + "&amp;from=" +
          FormatUtcMillis(query.to_ms - 90 * kDayMs).substr(0, 10) + "\">90 days</a><a href=\"?" + site_param +
          "&amp;interval=hour&amp;from=" + FormatUtcMillis(query.to_ms - 2 * kDayMs).substr(0, 10) +
          "\">48 hours</a></p>";
  html += "<form method=\"get\"><input type=\"hidden\" name=\"site\" value=\"" + site +
          "\"><label>From <input type=\"date\" name=\"from\" value=\"" + from +
          "\"></label> <label>to <input type=\"date\" name=\"to\" value=\"" + to +
          "\"></label> <button>Show</button></form>";
  html += "<div class=\"tiles\"><div class=\"tile\"><b>" + Number(stats.views) +
          "</b>views</div><div class=\"tile\"><b>" + Number(stats.visitor_days) +
          "</b>visitor-days</div><div class=\"tile\"><b>" + Number(stats.peak_daily_visitors) +
          "</b>most visitors in a day</div><div class=\"tile\"><b>" + Number(dropped) +
          "</b>requests not counted</div></div>";
  html += "<section class=\"card\"><h2>Views and new visitors</h2>" + SeriesChart(query, stats) +
          "<p class=\"muted\">Bars: views. Line: visitors seen for the first time that UTC day. "
          "Visitors are recognised within one UTC day only (the hash key changes daily), so "
          "visitor-days add up each day's unique visitors; they are not a count of people.</p></section>";
  html += "<div class=\"grid\">";
  html += ListCard("Pages (views, visitor-days)", stats.paths, true);
  std::vector<store::NamedCount> referrers = stats.referrers;
  for (store::NamedCount& referrer : referrers) referrer.name = ReferrerLabel(referrer.name);
  html += ListCard("Referrers", referrers, false, "(direct)");
  html += ListCard("Browsers", stats.browsers, false);
  html += ListCard("Systems", stats.systems, false);
  html += ListCard("Devices", stats.devices, false);
  html += ListCard("Screens", stats.screens, false, "(unknown)");
  html += ListCard("With or without Origin", stats.sources, false, "(unknown)");
  html += ListCard("Not counted, by reason", stats.drops, false);
  // Custom events link to their properties (the same dashboard with &event=).
  const std::string range = "site=" + PercentEncode(query.site) + "&from=" + from + "&to=" + to;
  html += ListCard("Custom events (count, visitor-days)", stats.events, true, "(none)",
                   [&range](const std::string& name) {
                     return "?" + range + "&event=" + PercentEncode(name);
                   });
  for (const auto& [key, values] : stats.props) {
    html += ListCard(query.event + ": " + key + " (count, visitor-days)", values, true);
  }
  html += GoalsCard(query, stats);
  html += ListCard("Campaign sources (utm_source)", stats.campaign_sources, false);
  html += ListCard("Campaign mediums (utm_medium)", stats.campaign_mediums, false);
  html += ListCard("Campaigns (utm_campaign)", stats.campaign_names, false);
  if (!stats.campaign_contents.empty()) {
    html += ListCard("Campaign contents (utm_content)", stats.campaign_contents, false);
  }
  if (!stats.campaign_terms.empty()) {
    html += ListCard("Campaign terms (utm_term)", stats.campaign_terms, false);
  }
  html += "</div><p class=\"muted\">footfall: no cookies, no raw addresses; raw visits are "
          "deleted after the retention period, these aggregates are kept.</p></main></body></html>\n";
  return html;
}

}  // namespace footfall::core
