#include "store/dynamodb/aggregate_items.h"

#include <gtest/gtest.h>

namespace footfall::store::dynamodb {
namespace {

constexpr int64_t kHour10 = 1'795'564'800'000 / 3'600'000 + 10;  // 2026-11-25T10Z, in hours

Visit MakeVisit(const std::string& visitor, const std::string& path, int64_t hour) {
  Visit v;
  v.visitor = visitor;
  v.path = path;
  v.site = "a.example";
  v.time_ms = hour * 3'600'000 + 60'000;
  v.browser = "Firefox";
  v.referrer = "news.example";
  return v;
}

// An H item as DynamoDB would hold it after `additions` were added to it.
json HourItemHolding(int64_t hour, const HourAdditions& additions) {
  const AggregateItem key = HourItem("a.example", hour, 0);
  json item = {{"visit_id", S(key.id)}, {"type", S("H")}, {"hour", N(hour)}, {"day", N(key.day)}};
  for (const auto& [name, amount] : additions.counters) item[name] = N(amount);
  for (const auto& [name, elements] : additions.visitor_sets) item[name] = {{"BS", elements}};
  return item;
}

TEST(AggregateItemsTest, AddUpCountsViewsDimensionsAndVisitorSetsPerHour) {
  const Visit a = MakeVisit("v1", "/a", kHour10), b = MakeVisit("v1", "/b", kHour10),
              c = MakeVisit("v2", "/a", kHour10 + 1);
  const Additions additions = AddUp({&a, &b, &c});
  ASSERT_EQ(additions.hours.size(), 2u);
  const HourAdditions& ten = additions.hours.at({"a.example", kHour10});
  EXPECT_EQ(ten.counters.at("v"), 2);
  EXPECT_EQ(ten.counters.at("v/a"), 1);
  EXPECT_EQ(ten.counters.at("v/b"), 1);
  EXPECT_EQ(ten.counters.at("dbrowser:Firefox"), 2);
  EXPECT_EQ(ten.counters.at("dreferrer:news.example"), 2);
  EXPECT_EQ(ten.counters.count("dos:"), 0u);  // empty values are not counted
  EXPECT_EQ(ten.visitor_sets.at("u").size(), 1u);
  EXPECT_EQ(ten.visitor_sets.at("u/a"), std::set<std::string>{VisitorElement("v1")});
  EXPECT_EQ(additions.page_views.at("a.example").at("v"), 3);
  EXPECT_EQ(additions.page_views.at("a.example").at("v/a"), 2);
  EXPECT_NE(VisitorElement("v1"), VisitorElement("v2"));
  EXPECT_EQ(VisitorElement("v1").size(), 12u);  // 8 bytes, base64
}

TEST(AggregateItemsTest, UniquesAreCountedFromTheHourOfFirstSightInTheDay) {
  const Visit early = MakeVisit("v1", "/a", kHour10 - 2);
  const Visit again = MakeVisit("v1", "/a", kHour10), other = MakeVisit("v2", "/a", kHour10);
  const Visit later = MakeVisit("v2", "/b", kHour10 + 1);
  const Additions first = AddUp({&early}), second = AddUp({&again, &other}),
                  third = AddUp({&later});
  const std::vector<json> items = {
      HourItemHolding(kHour10 - 2, first.hours.at({"a.example", kHour10 - 2})),
      HourItemHolding(kHour10, second.hours.at({"a.example", kHour10})),
      HourItemHolding(kHour10 + 1, third.hours.at({"a.example", kHour10 + 1}))};
  StatsQuery query;
  query.site = "a.example";
  query.interval = Interval::kHour;
  query.from_ms = kHour10 * 3'600'000;  // v1 was first seen before the range: not new in it
  query.to_ms = (kHour10 + 2) * 3'600'000;
  const StatsRows rows = StatsRowsFromItems(query, items);
  ASSERT_EQ(rows.buckets.size(), 2u);
  EXPECT_EQ(rows.buckets.at(kHour10).views, 2);
  EXPECT_EQ(rows.buckets.at(kHour10).new_visitors, 1);  // v2
  EXPECT_EQ(rows.buckets.at(kHour10 + 1).views, 1);
  EXPECT_EQ(rows.buckets.at(kHour10 + 1).new_visitors, 0);  // v2 again, on another path
  ASSERT_EQ(rows.paths.size(), 2u);
  EXPECT_EQ(rows.paths[0].name, "/a");
  EXPECT_EQ(rows.paths[0].views, 2);
  EXPECT_EQ(rows.paths[0].visitor_days, 1);  // v2; v1 saw /a first before the range
  EXPECT_EQ(rows.paths[1].visitor_days, 1);  // v2's first /b
  EXPECT_EQ(rows.dimensions.at("browser").at(0).views, 3);

  query.path = "/b";
  const StatsRows b = StatsRowsFromItems(query, items);
  EXPECT_EQ(b.buckets.at(kHour10 + 1).new_visitors, 1);
  EXPECT_EQ(b.buckets.count(kHour10), 0u);
}

TEST(AggregateItemsTest, OddItemsAndAttributesAreSkipped) {
  StatsQuery query;
  query.site = "a.example";
  query.from_ms = kHour10 * 3'600'000;
  query.to_ms = (kHour10 + 1) * 3'600'000;
  const std::vector<json> items = {
      json::array(), json::object(), {{"type", S("H")}},
      {{"type", S("H")}, {"hour", N(kHour10)}, {"v", S("3")}, {"u", {{"BS", 5}}},
       {"uX", {{"BS", json::array({1, "AAAAAAAAAAA="})}}}, {"dnocolon", N(1)}, {"v/a", N(2)}},
      {{"type", {{"N", "1"}}}}, {{"type", S("h")}, {"name", N(1)}}};
  const StatsRows rows = StatsRowsFromItems(query, items);
  ASSERT_EQ(rows.paths.size(), 2u);  // "/a" and the odd set's "X"
  EXPECT_EQ(rows.paths[0].name, "/a");
  EXPECT_EQ(rows.paths[0].views, 2);
  EXPECT_TRUE(rows.dimensions.empty());
}

TEST(AggregateItemsTest, ItemBytesFollowsDynamoDbsRules) {
  const json item = {{"visit_id", S("abc")}, {"count", N(12345)}, {"u", {{"BS", {"AAAAAAAAAAA="}}}}};
  EXPECT_EQ(ItemBytes(item), (8 + 3) + (5 + 3) + (1 + 8));
}

TEST(AggregateItemsTest, HourItemBytesAfterCountsOnlyWhatAnUpdateAdds) {
  const Visit a = MakeVisit("v1", "/a", kHour10), b = MakeVisit("v2", "/a", kHour10);
  const HourAdditions first = AddUp({&a}).hours.at({"a.example", kHour10});
  const AggregateItem key = HourItem("a.example", kHour10, 0);
  // A new item: its keys and index attributes, then every name and value added.
  const size_t fresh = HourItemBytesAfter(key, nullptr, first);
  const json written = HourItemHolding(kHour10, first);
  EXPECT_GT(fresh, ItemBytes(written));
  // The same visitor again: counters stay one digit, the sets already hold it.
  EXPECT_EQ(HourItemBytesAfter(key, &written, first), ItemBytes(written));
  // Another visitor: 8 bytes in each of the two sets; a counter growing past 9 takes no more
  // bytes (DynamoDB stores two digits per byte).
  const HourAdditions second = AddUp({&b}).hours.at({"a.example", kHour10});
  EXPECT_EQ(HourItemBytesAfter(key, &written, second), ItemBytes(written) + 16);
  HourAdditions many = first;
  many.counters["v"] = 200;  // 1 → 201: one byte more
  many.visitor_sets.clear();
  EXPECT_EQ(HourItemBytesAfter(key, &written, many), ItemBytes(written) + 1);
}

TEST(AggregateItemsTest, UpdateRequestNamesEveryAttributeThroughAPlaceholder) {
  const json update = UpdateRequest("t", "id", {{"type", S("H")}}, {{"v/a b", N(2)}});
  EXPECT_EQ(update["UpdateExpression"], "SET #s0 = :s0 ADD #a0 :a0");
  EXPECT_EQ(update["ExpressionAttributeNames"]["#a0"], "v/a b");
  EXPECT_EQ(update["Key"]["visit_id"]["S"], "id");
}

}  // namespace
}  // namespace footfall::store::dynamodb
