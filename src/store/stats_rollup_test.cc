#include "store/stats_rollup.h"

#include <gtest/gtest.h>

#include <set>
#include <tuple>

namespace footfall::store {
namespace {

constexpr int64_t kTenFifteenMs = 1'795'564'800'000 + 10 * 3'600'000 + 15 * 60'000;

Visit MakeVisit(const char* visitor, const char* path) {
  Visit v;
  v.time_ms = kTenFifteenMs;
  v.site = "a.example";
  v.visitor = visitor;
  v.path = path;
  v.browser = "Firefox";
  return v;
}

TEST(RollUpTest, CountsViewsPerHourPageAndDimension) {
  const Visit a = MakeVisit("v1", "/a"), b = MakeVisit("v2", "/b");
  const Rollup rollup = RollUp({&a, &b}, [](int64_t, const std::string&, const std::string&,
                                            const std::string&) { return true; });
  const int64_t hour = HourOf(kTenFifteenMs);
  EXPECT_EQ(rollup.hours.at({"a.example", hour, ""}).views, 2);
  EXPECT_EQ(rollup.hours.at({"a.example", hour, ""}).new_visitors, 2);
  EXPECT_EQ(rollup.hours.at({"a.example", hour, "/a"}).views, 1);
  EXPECT_EQ(rollup.page_views.at({"a.example", "/b"}), 1);
  EXPECT_EQ(rollup.dimensions.at({"a.example", DayOfHour(hour), "browser", "Firefox"}), 2);
}

TEST(RollUpTest, AsksTheStoreOnceForAVisitorSeenTwiceInOneBatch) {
  const Visit first = MakeVisit("v1", "/a"), again = MakeVisit("v1", "/a"),
              other = MakeVisit("v2", "/a");
  std::multiset<std::tuple<std::string, std::string>> asked;  // (path, visitor)
  const Rollup rollup = RollUp(
      {&first, &again, &other},
      [&](int64_t, const std::string&, const std::string& path, const std::string& visitor) {
        asked.emplace(path, visitor);
        return true;  // never seen before this batch
      });
  // Once per (path, visitor): the second view of v1 is answered "seen" without asking.
  EXPECT_EQ(asked, (std::multiset<std::tuple<std::string, std::string>>{
                       {"", "v1"}, {"/a", "v1"}, {"", "v2"}, {"/a", "v2"}}));
  const int64_t hour = HourOf(kTenFifteenMs);
  EXPECT_EQ(rollup.hours.at({"a.example", hour, "/a"}).views, 3);
  EXPECT_EQ(rollup.hours.at({"a.example", hour, "/a"}).new_visitors, 2);
  EXPECT_EQ(rollup.hours.at({"a.example", hour, ""}).new_visitors, 2);
}

TEST(RollUpTest, AsksExactlyTheSeenKeysOfEachVisit) {
  const Visit a = MakeVisit("v1", "/a"), b = MakeVisit("v2", "/b");
  std::set<SeenKey> asked;
  RollUp({&a, &b}, [&](int64_t day, const std::string& site, const std::string& path,
                       const std::string& visitor) {
    asked.insert({day, site, path, visitor});
    return true;
  });
  std::set<SeenKey> keys;
  for (const Visit* v : {&a, &b}) {
    for (const SeenKey& key : SeenKeys(*v)) keys.insert(key);
  }
  EXPECT_EQ(asked, keys);
  EXPECT_EQ(keys.size(), 4u);
}

}  // namespace
}  // namespace footfall::store
