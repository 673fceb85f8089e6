#include "core/stats_api.h"

#include <gtest/gtest.h>

namespace footfall::core {
namespace {

const TimePoint kNow = TimePoint(std::chrono::milliseconds(1'795'600'800'000));  // 2026-11-25T10Z

StatusOr<store::StatsQuery> Parse(std::string_view query) {
  return ParseStatsQuery(*ParseQuery(query), kNow, "me.example");
}

TEST(ParseStatsQueryTest, DefaultsToTheLast30DaysOfTheDefaultSite) {
  store::StatsQuery query = *Parse("");
  EXPECT_EQ(query.site, "me.example");
  EXPECT_EQ(query.to_ms, 1'795'600'800'001);
  EXPECT_EQ(query.to_ms - query.from_ms, 30LL * 86'400'000);
  EXPECT_EQ(query.interval, store::Interval::kDay);
  EXPECT_EQ(query.top, 10);
}

TEST(ParseStatsQueryTest, DateOnlyToIncludesThatDay) {
  store::StatsQuery query = *Parse("from=2026-11-01&to=2026-11-01&interval=hour&path=/a//b&top=5");
  EXPECT_EQ(query.to_ms - query.from_ms, 86'400'000);
  EXPECT_EQ(query.interval, store::Interval::kHour);
  EXPECT_EQ(query.path, "/a/b");
  EXPECT_EQ(query.top, 5);
}

TEST(ParseStatsQueryTest, RejectsBadParametersWithTheirName) {
  EXPECT_NE(Parse("from=yesterday").status().message().find("from"), std::string::npos);
  EXPECT_NE(Parse("interval=week").status().message().find("interval"), std::string::npos);
  EXPECT_FALSE(Parse("top=ten").ok());
  EXPECT_FALSE(Parse("path=relative").ok());
}

TEST(FormatStatsJsonTest, NamesEveryPart) {
  store::StatsQuery query = *Parse("from=2026-11-01&to=2026-11-02");
  store::Stats stats;
  stats.views = 3;
  stats.visitor_days = 2;
  stats.series.push_back({query.from_ms, 3, 2});
  stats.paths.push_back({"/a\"b", 3, 2});
  stats.drops.push_back({"bot", 7, 0});
  const std::string json = FormatStatsJson(query, stats);
  EXPECT_NE(json.find(R"("from":"2026-11-01T00:00:00.000Z")"), std::string::npos);
  EXPECT_NE(json.find(R"("series":[{"start":"2026-11-01T00:00:00.000Z","views":3,"new_visitors":2}])"),
            std::string::npos);
  EXPECT_NE(json.find(R"({"name":"/a\"b","views":3,"visitor_days":2})"), std::string::npos);
  EXPECT_NE(json.find(R"("drops":[{"name":"bot","views":7}])"), std::string::npos);
  EXPECT_NE(json.find("not a count of people"), std::string::npos);
}

}  // namespace
}  // namespace footfall::core
