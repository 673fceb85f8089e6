#include "core/dashboard.h"

#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

namespace footfall::core {
namespace {

store::StatsQuery Query() {
  store::StatsQuery query;
  query.site = "me.example";
  query.from_ms = 1'795'564'800'000 - 2 * 86'400'000;  // 2026-11-23
  query.to_ms = 1'795'564'800'000 + 86'400'000;        // up to 2026-11-26
  return query;
}

store::Stats Sample() {
  store::Stats stats;
  stats.views = 1234;
  stats.visitor_days = 321;
  stats.peak_daily_visitors = 150;
  for (int i = 0; i < 3; ++i) stats.series.push_back({1'795'564'800'000 + (i - 2) * 86'400'000LL, 100 * (i + 1), 10});
  stats.paths = {{"/<script>alert(1)</script>", 700, 200}, {"/cv", 534, 121}};
  stats.referrers = {{"evil\"onmouseover=\"x", 3, 0}};
  stats.drops = {{"crawler", 40, 0}};
  return stats;
}

TEST(DashboardTest, RendersEveryPartWithVisitorDataEscaped) {
  const std::string html = RenderDashboard(Query(), Sample());
  EXPECT_EQ(html.find("<script"), std::string::npos) << "no script, not even an injected one";
  EXPECT_NE(html.find("/&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_EQ(html.find("onmouseover=\"x"), std::string::npos);
  EXPECT_NE(html.find("evil&quot;onmouseover=&quot;x"), std::string::npos);
  EXPECT_NE(html.find("1,234"), std::string::npos);
  EXPECT_NE(html.find("2026-11-23 to 2026-11-25"), std::string::npos);
  EXPECT_EQ(std::count(html.begin(), html.end(), '\n'), 15) << "a single document";
  size_t bars = 0;
  for (size_t at = 0; (at = html.find("class=\"bar\"", at)) != std::string::npos; ++at) ++bars;
  EXPECT_EQ(bars, 3u);
  EXPECT_NE(html.find("crawler"), std::string::npos);
  EXPECT_NE(html.find("not a count of people"), std::string::npos);
}

TEST(DashboardTest, ShowsEventsWithPropertyLinksGoalsAndCampaigns) {
  store::StatsQuery query = Query();
  store::Stats stats = Sample();
  stats.referrers = {{"news.ycombinator.com", 9, 0}};
  stats.events = {{"Sign up <b>", 4, 3}};
  stats.goals = {{"event:Sign up <b>", 4, 3}, {"page:/never", 0, 0}};
  stats.campaign_sources = {{"newsletter", 5, 0}};
  std::string html = RenderDashboard(query, stats);
  EXPECT_NE(html.find("news.ycombinator.com (Hacker News)"), std::string::npos);
  EXPECT_NE(html.find("href=\"?site=me.example&amp;from=2026-11-23&amp;to=2026-11-25&amp;"
                      "event=Sign%20up%20%3Cb%3E\">Sign up &lt;b&gt;</a>"),
            std::string::npos)
      << html;
  EXPECT_NE(html.find("event:Sign up &lt;b&gt;</td><td class=\"n\">4</td><td class=\"n\">3</td>"
                      "<td class=\"n\">0.9%</td>"),
            std::string::npos)
      << "3 of 321 visitor-days";
  EXPECT_NE(html.find("newsletter"), std::string::npos);
  EXPECT_EQ(html.find("utm_content"), std::string::npos) << "empty optional cards are left out";

  query.event = "Sign up <b>";
  stats.props = {{"plan", {{"pro", 3, 2}}}};
  html = RenderDashboard(query, stats);
  EXPECT_NE(html.find("Sign up &lt;b&gt;: plan (count, visitor-days)"), std::string::npos);
  EXPECT_EQ(html.find("<b>"), html.find("<b>" + std::string("1,234"))) << "no unescaped name";
}

TEST(DashboardTest, ThePolicyAllowsExactlyTheInlineStyle) {
  const std::string html = RenderDashboard(Query(), Sample());
  const size_t open = html.find("<style>") + 7, close = html.find("</style>");
  const std::string style = html.substr(open, close - open);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(style.data()), style.size(), digest);
  unsigned char encoded[64];
  EVP_EncodeBlock(encoded, digest, sizeof digest);
  const std::string policy = DashboardContentSecurityPolicy();
  EXPECT_NE(policy.find("style-src 'sha256-" + std::string(reinterpret_cast<char*>(encoded)) + "'"),
            std::string::npos) << policy;
  EXPECT_NE(policy.find("default-src 'none'"), std::string::npos);
  EXPECT_EQ(policy.find("script-src"), std::string::npos) << "no scripts at all";
  EXPECT_EQ(html.find(" style=\""), std::string::npos) << "style attributes would need unsafe-inline";
}

TEST(DashboardTest, AnEmptyRangeSaysSo) {
  const std::string html = RenderDashboard(Query(), store::Stats{});
  EXPECT_NE(html.find("Nothing in this range."), std::string::npos);
}

}  // namespace
}  // namespace footfall::core
