// The Store conformance suite: the same behaviour checks against every engine, each a real one
// (conformance_engines.h). The calling contract itself is store_contract_test.cc.
#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>
#include <set>
#include <thread>

#include "base/utc_time.h"
#include "store/blocking.h"
#include "store/props_text.h"
#include "tests/conformance_engines.h"

namespace footfall::store::conformance {
namespace {

TEST_P(StoreConformanceTest, StartsAtZeroAndCountsEachVisit) {
  ASSERT_TRUE(store_);
  EXPECT_EQ(*ReadTotalAndWait(*store_), 0);
  EXPECT_EQ(RecordVisitAndWait(*store_, MakeVisit(1))->total, 1);
  EXPECT_EQ(RecordVisitAndWait(*store_, MakeVisit(2))->total, 2);
  EXPECT_EQ(*ReadTotalAndWait(*store_), 2);
  EXPECT_TRUE(CheckReadyAndWait(*store_).ok());
}

TEST_P(StoreConformanceTest, ConcurrentVisitsGetDistinctTotalsAndExactSum) {
  constexpr int kThreads = 8, kPerThread = 50;
  std::mutex mu;
  std::set<int64_t> totals;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        StatusOr<RecordedVisit> r = RecordVisitAndWait(*store_, MakeVisit(t * kPerThread + i));
        ASSERT_TRUE(r.ok()) << r.status().ToString();
        std::lock_guard lock(mu);
        totals.insert(r->total);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  if (GetParam().exact_totals) {
    EXPECT_EQ(totals.size(), static_cast<size_t>(kThreads * kPerThread));
  }
  EXPECT_EQ(*ReadTotalAndWait(*store_), kThreads * kPerThread);
}

TEST_P(StoreConformanceTest, DuplicateVisitIdIsRejectedAndNotCounted) {
  ASSERT_TRUE(RecordVisitAndWait(*store_, MakeVisit(5)).ok());
  EXPECT_EQ(RecordVisitAndWait(*store_, MakeVisit(5)).status().code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(*ReadTotalAndWait(*store_), 1);
}

TEST_P(StoreConformanceTest, DailySaltIsAgreedAndDestroyedAfterTwoDays) {
  Salt a, b, c;
  a.fill(1);
  b.fill(2);
  c.fill(3);
  EXPECT_EQ(*GetOrCreateDailySaltAndWait(*store_, 20000, a), a);
  EXPECT_EQ(*GetOrCreateDailySaltAndWait(*store_, 20000, b), a) << "first stored candidate wins";
  EXPECT_EQ(*GetOrCreateDailySaltAndWait(*store_, 20001, b), b);
  EXPECT_EQ(*GetOrCreateDailySaltAndWait(*store_, 20002, c), c);
  // Day 20000's salt is gone: asking again stores the new candidate instead.
  EXPECT_EQ(*GetOrCreateDailySaltAndWait(*store_, 20000, c), c);
}

TEST_P(StoreConformanceTest, MaintenanceDeletesOldSaltsWithoutANewDay) {
  Salt a, b, c, d;
  a.fill(1);
  b.fill(2);
  c.fill(3);
  d.fill(4);
  ASSERT_TRUE(GetOrCreateDailySaltAndWait(*store_, 20000, a).ok());
  ASSERT_TRUE(GetOrCreateDailySaltAndWait(*store_, 20001, b).ok());
  // Nobody asks for day 20002's salt: maintenance on day 20002 keeps yesterday's only.
  StatusOr<int64_t> deleted = DeleteSaltsBeforeAndWait(*store_, 20001);
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_EQ(*deleted, 1);
  EXPECT_EQ(*GetOrCreateDailySaltAndWait(*store_, 20000, c), c) << "day 20000's salt is gone";
  EXPECT_EQ(*GetOrCreateDailySaltAndWait(*store_, 20001, d), b) << "yesterday's salt is kept";
  // Running again finds nothing more to delete (the re-created day 20000 salt aside).
  EXPECT_EQ(*DeleteSaltsBeforeAndWait(*store_, 20001), 1);
  EXPECT_EQ(*DeleteSaltsBeforeAndWait(*store_, 20001), 0);
}

TEST_P(StoreConformanceTest, PruneDeletesOnlyExpiredVisitsAndKeepsTheCount) {
  for (int i = 0; i < 3; ++i) {
    Visit v = MakeVisit(i);
    v.expiration_time = 1000 + i;  // 1000, 1001, 1002
    ASSERT_TRUE(RecordVisitAndWait(*store_, v).ok());
  }
  const int64_t deleted = *Wait<int64_t>([&](Callback<int64_t> done) {
    store_->PruneExpired(1002, kNoDeadline, std::move(done));
  });
  // DynamoDB leaves expiry to the table's TTL.
  EXPECT_EQ(deleted, GetParam().name.starts_with("dynamodb") ? 0 : 2);
  EXPECT_EQ(*ReadTotalAndWait(*store_), 3) << "the counter counts visits ever recorded";
}

// Aggregates: unique visitors per day, per-path views, dimensions, drops. (Engines that keep
// aggregates; DynamoDB joins when its land.)
using StatsConformanceTest = StoreConformanceTest;

StatusOr<Stats> QueryStatsAndWait(Store& store, StatsQuery query) {
  return Wait<Stats>([&](Callback<Stats> done) {
    store.QueryStats(std::move(query), kNoDeadline, std::move(done));
  });
}

constexpr int64_t kDayStartMs = 1'795'564'800'000;  // 2026-11-25T00:00:00Z
constexpr int64_t kTenFifteenMs = kDayStartMs + 10 * 3'600'000 + 15 * 60'000;  // 10:15Z

TEST_P(StatsConformanceTest, CountsViewsDailyUniquesPathsDimensionsAndDrops) {
  auto visit = [&](int id, int64_t time_ms, const char* visitor, const char* path) {
    Visit v = MakeVisit(id);
    v.time_ms = time_ms;
    v.timestamp = FormatUtcMillis(time_ms);  // as the service records it: the same instant
    v.visitor = visitor;
    v.path = path;
    // The classes the service derives from this agent (a stream consumer derives them again).
    v.user_agent = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0";
    v.browser = "Firefox";
    v.os = "Linux";
    v.device = "desktop";
    ASSERT_TRUE(RecordVisitAndWait(*store_, v).ok());
  };
  visit(1, kTenFifteenMs, "a1a1", "/a");
  visit(2, kTenFifteenMs + 60'000, "a1a1", "/a");        // same visitor, same day: not unique again
  visit(3, kTenFifteenMs + 3'600'000, "b2b2", "/b");     // next hour
  visit(4, kTenFifteenMs + 86'400'000, "a1a1", "/a");    // next day: counts again
  for (int i = 0; i < 2; ++i) {
    std::promise<Status> dropped;
    store_->RecordDrop("a.example", kTenFifteenMs, "bot", kNoDeadline,
                       [&](Status s) { dropped.set_value(s); });
    ASSERT_TRUE(dropped.get_future().get().ok());
  }
  visit(5, kTenFifteenMs - 86'400'000 * 10, "c9c9", "/old");  // also makes the drops visible
  Settle();

  StatsQuery query;
  query.site = "a.example";
  query.from_ms = kDayStartMs;
  query.to_ms = kDayStartMs + 2 * 86'400'000;
  query.interval = Interval::kDay;
  Stats stats = *QueryStatsAndWait(*store_, query);
  EXPECT_EQ(stats.views, 4);
  EXPECT_EQ(stats.visitor_days, 3);  // day 1: a1a1, b2b2; day 2: a1a1
  EXPECT_EQ(stats.peak_daily_visitors, 2);
  ASSERT_EQ(stats.series.size(), 2u);
  EXPECT_EQ(stats.series[0].start_ms, kDayStartMs);
  EXPECT_EQ(stats.series[0].views, 3);
  EXPECT_EQ(stats.series[1].views, 1);
  ASSERT_EQ(stats.paths.size(), 2u);
  EXPECT_EQ(stats.paths[0].name, "/a");
  EXPECT_EQ(stats.paths[0].views, 3);
  EXPECT_EQ(stats.paths[0].visitor_days, 2);
  EXPECT_EQ(stats.paths[1].name, "/b");
  ASSERT_EQ(stats.browsers.size(), 1u);
  EXPECT_EQ(stats.browsers[0].name, "Firefox");
  EXPECT_EQ(stats.browsers[0].views, 4);
  EXPECT_EQ(stats.referrers[0].name, "news.example");
  EXPECT_EQ(stats.devices[0].name, "desktop");
  ASSERT_EQ(stats.drops.size(), 1u);
  EXPECT_EQ(stats.drops[0].name, "bot");
  EXPECT_EQ(stats.drops[0].views, 2);

  auto page_views = [&](const char* path) {
    return *Wait<int64_t>([&](Callback<int64_t> done) {
      store_->ReadPageViews("a.example", path, kNoDeadline, std::move(done));
    });
  };
  EXPECT_EQ(page_views("/a"), 3);
  EXPECT_EQ(page_views(""), 5);  // the whole site, ever (the old visit included)
  EXPECT_EQ(page_views("/never"), 0);

  // Ranges that start and end inside a day count only their hours, in top pages too.
  query.from_ms = kTenFifteenMs + 30 * 60'000;            // 10:45 on day 1: from hour 10
  query.to_ms = kTenFifteenMs + 86'400'000 - 3'600'000;   // 09:15 on day 2: up to hour 10
  Stats partial = *QueryStatsAndWait(*store_, query);
  EXPECT_EQ(partial.views, 3);  // a1a1 twice at 10:xx, b2b2 at 11:15; not day 2's 10:15
  ASSERT_EQ(partial.paths.size(), 2u);
  EXPECT_EQ(partial.paths[0].name, "/a");
  EXPECT_EQ(partial.paths[0].views, 2);
  EXPECT_EQ(partial.paths[1].views, 1);
  query.to_ms = kTenFifteenMs + 86'400'000;               // 10:15 on day 2: hour 10 included
  partial = *QueryStatsAndWait(*store_, query);
  EXPECT_EQ(partial.views, 4);
  EXPECT_EQ(partial.paths[0].views, 3);

  query.interval = Interval::kHour;
  query.from_ms = kDayStartMs;
  query.to_ms = kDayStartMs + 86'400'000;
  query.path = "/a";
  Stats hourly = *QueryStatsAndWait(*store_, query);
  ASSERT_EQ(hourly.series.size(), 24u);
  EXPECT_EQ(hourly.series[10].views, 2);
  EXPECT_EQ(hourly.series[10].new_visitors, 1);
  EXPECT_EQ(hourly.views, 2);
}

TEST_P(StatsConformanceTest, CountsEventsPropertiesGoalsAndCampaigns) {
  auto record = [&](int id, const char* visitor, const char* path, const char* event,
                    Props props, std::vector<std::string> goals) {
    Visit v = MakeVisit(id);
    v.time_ms = kTenFifteenMs + id * 60'000;
    v.timestamp = FormatUtcMillis(v.time_ms);
    v.visitor = visitor;
    v.path = path;
    v.browser = "Firefox";
    v.event = event;
    v.props = std::move(props);
    v.goals = std::move(goals);
    if (v.is_page_view() && id == 1) v.campaign = {"newsletter", "email", "launch", "", ""};
    StatusOr<RecordedVisit> recorded = RecordVisitAndWait(*store_, v);
    EXPECT_TRUE(recorded.ok()) << recorded.status().ToString();
    return recorded.ok() ? recorded->total : -1;
  };
  EXPECT_EQ(record(1, "a1a1", "/thanks", "", {}, {"page:/thanks"}), 1);
  EXPECT_EQ(record(2, "b2b2", "/", "", {}, {}), 2);
  // Custom events are not counted: each is answered with total 0.
  EXPECT_EQ(record(3, "a1a1", "/thanks", "Signup", {{"plan", "pro"}, {"tier", "x"}},
                   {"event:Signup"}),
            0);
  EXPECT_EQ(record(4, "b2b2", "/", "Signup", {{"plan", "free"}}, {"event:Signup"}), 0);
  EXPECT_EQ(record(5, "a1a1", "/thanks", "Signup", {{"plan", "pro"}}, {"event:Signup"}), 0);
  Settle();
  EXPECT_EQ(*ReadTotalAndWait(*store_), 2);

  StatsQuery query;
  query.site = "a.example";
  query.from_ms = kDayStartMs;
  query.to_ms = kDayStartMs + 86'400'000;
  Stats stats = *QueryStatsAndWait(*store_, query);
  EXPECT_EQ(stats.views, 2);
  EXPECT_EQ(stats.visitor_days, 2);
  ASSERT_EQ(stats.paths.size(), 2u);  // pages only: no event, property or goal key
  EXPECT_EQ(stats.paths[0].name, "/");
  EXPECT_EQ(stats.paths[1].name, "/thanks");
  ASSERT_EQ(stats.browsers.size(), 1u);
  EXPECT_EQ(stats.browsers[0].views, 2);  // events add to no dimension
  ASSERT_EQ(stats.events.size(), 1u);
  EXPECT_EQ(stats.events[0].name, "Signup");
  EXPECT_EQ(stats.events[0].views, 3);
  EXPECT_EQ(stats.events[0].visitor_days, 2);
  EXPECT_TRUE(stats.props.empty()) << "properties only for the event asked about";
  ASSERT_EQ(stats.goals.size(), 2u);
  EXPECT_EQ(stats.goals[0].name, "event:Signup");
  EXPECT_EQ(stats.goals[0].views, 3);
  EXPECT_EQ(stats.goals[0].visitor_days, 2);
  EXPECT_EQ(stats.goals[1].name, "page:/thanks");
  EXPECT_EQ(stats.goals[1].views, 1);
  EXPECT_EQ(stats.goals[1].visitor_days, 1);
  ASSERT_EQ(stats.campaign_sources.size(), 1u);
  EXPECT_EQ(stats.campaign_sources[0].name, "newsletter");
  EXPECT_EQ(stats.campaign_sources[0].views, 1);
  ASSERT_EQ(stats.campaign_mediums.size(), 1u);
  EXPECT_EQ(stats.campaign_mediums[0].name, "email");
  ASSERT_EQ(stats.campaign_names.size(), 1u);
  EXPECT_EQ(stats.campaign_names[0].name, "launch");
  EXPECT_TRUE(stats.campaign_contents.empty());

  query.event = "Signup";
  stats = *QueryStatsAndWait(*store_, query);
  ASSERT_EQ(stats.props.size(), 2u);
  const std::vector<NamedCount>& plans = stats.props["plan"];
  ASSERT_EQ(plans.size(), 2u);
  EXPECT_EQ(plans[0].name, "pro");
  EXPECT_EQ(plans[0].views, 2);
  EXPECT_EQ(plans[0].visitor_days, 1);
  EXPECT_EQ(plans[1].name, "free");
  EXPECT_EQ(plans[1].views, 1);
  ASSERT_EQ(stats.props["tier"].size(), 1u);
  EXPECT_EQ(stats.props["tier"][0].name, "x");

  auto page_views = [&](const char* path) {
    return *Wait<int64_t>([&](Callback<int64_t> done) {
      store_->ReadPageViews("a.example", path, kNoDeadline, std::move(done));
    });
  };
  EXPECT_EQ(page_views(""), 2);
  EXPECT_EQ(page_views("/thanks"), 1);
}

TEST_P(StatsConformanceTest, RejectsUnboundedQueries) {
  StatsQuery query;
  query.site = "a.example";
  query.from_ms = kDayStartMs;
  query.to_ms = kDayStartMs;
  EXPECT_EQ(QueryStatsAndWait(*store_, query).status().code(), StatusCode::kInvalidArgument);
  query.to_ms = kDayStartMs + 401LL * 86'400'000;
  EXPECT_FALSE(QueryStatsAndWait(*store_, query).ok());
  query.to_ms = kDayStartMs + 32LL * 86'400'000;
  query.interval = Interval::kHour;
  EXPECT_FALSE(QueryStatsAndWait(*store_, query).ok());
}

// Engines that can export raw visits.
using ExportConformanceTest = StoreConformanceTest;

TEST_P(ExportConformanceTest, ScanVisitsPagesThroughARangeOfStoredVisits) {
  // Ten visits one minute apart; the scan asks for minutes 2..7 in pages of four.
  constexpr int64_t kStartMs = 1'795'600'800'000;  // 2026-11-25T10:00:00Z
  for (int i = 0; i < 10; ++i) {
    Visit visit = MakeVisit(i);
    visit.time_ms = kStartMs + i * 60'000;
    visit.timestamp = FormatUtcMillis(visit.time_ms);
    visit.path = "/p" + std::to_string(i);
    visit.screen = "1440+";
    visit.source = i % 2 ? "origin" : "no_origin";
    if (i == 3) {
      visit.event = "Download";
      visit.props = {{"file", "cv.pdf"}, {"lang", "en"}};
    }
    ASSERT_TRUE(RecordVisitAndWait(*store_, visit).ok());
  }
  std::vector<Visit> seen;
  std::string cursor;
  int pages = 0;
  do {
    StatusOr<VisitPage> page =
        ScanVisitsAndWait(*store_, kStartMs + 2 * 60'000, kStartMs + 8 * 60'000, cursor, 4);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    seen.insert(seen.end(), page->visits.begin(), page->visits.end());
    cursor = page->next_cursor;
    ASSERT_LT(++pages, 10);
  } while (!cursor.empty());
  std::sort(seen.begin(), seen.end(),
            [](const Visit& a, const Visit& b) { return a.visit_id < b.visit_id; });
  ASSERT_EQ(seen.size(), 6u);
  for (int i = 0; i < 6; ++i) {
    const Visit expected = MakeVisit(i + 2);
    EXPECT_EQ(seen[i].visit_id, expected.visit_id);
    EXPECT_EQ(seen[i].time_ms, kStartMs + (i + 2) * 60'000);
    EXPECT_EQ(seen[i].timestamp, FormatUtcMillis(seen[i].time_ms));
    EXPECT_EQ(seen[i].path, "/p" + std::to_string(i + 2));
    EXPECT_EQ(seen[i].visitor, expected.visitor);
    EXPECT_EQ(seen[i].user_agent, expected.user_agent);
    EXPECT_EQ(seen[i].referrer, expected.referrer);
    EXPECT_EQ(seen[i].site, expected.site);
    EXPECT_EQ(seen[i].expiration_time, expected.expiration_time);
    EXPECT_EQ(seen[i].screen, "1440+");
    EXPECT_EQ(seen[i].source, (i + 2) % 2 ? "origin" : "no_origin");
    EXPECT_EQ(seen[i].event, i + 2 == 3 ? "Download" : "");
    const Props expected_props =
        i + 2 == 3 ? Props{{"file", "cv.pdf"}, {"lang", "en"}} : Props{};
    EXPECT_EQ(seen[i].props, expected_props);
  }
  EXPECT_EQ(ScanVisitsAndWait(*store_, 0, kStartMs, "", 0).status().code(),
            StatusCode::kInvalidArgument);
  if (GetParam().name.starts_with("dynamodb")) {
    // Its cursors are opaque (SQL engines take any visit_id to continue after).
    EXPECT_EQ(ScanVisitsAndWait(*store_, 0, kStartMs, "not a cursor", 4).status().code(),
              StatusCode::kInvalidArgument);
  }
}

// Only engines that keep data (every engine but memory:).
using DurableStoreConformanceTest = StoreConformanceTest;

TEST_P(DurableStoreConformanceTest, DataSurvivesReopen) {
  ASSERT_TRUE(RecordVisitAndWait(*store_, MakeVisit(1)).ok());
  Salt salt;
  salt.fill(9);
  ASSERT_TRUE(GetOrCreateDailySaltAndWait(*store_, 30000, salt).ok());
  store_.reset();
  store_ = Open();
  EXPECT_EQ(*ReadTotalAndWait(*store_), 1);
  Salt other;
  other.fill(8);
  EXPECT_EQ(*GetOrCreateDailySaltAndWait(*store_, 30000, other), salt);
}

INSTANTIATE_TEST_SUITE_P(Engines, StoreConformanceTest,
                         ::testing::Values(kMemory, kSqlite, kPostgres, kDynamoDb,
                                           kDynamoDbSharded, kDynamoDbStream),
                         EngineName);
INSTANTIATE_TEST_SUITE_P(Engines, StatsConformanceTest,
                         ::testing::Values(kMemory, kSqlite, kPostgres, kDynamoDb, kDynamoDbSharded,
                                           kDynamoDbStream),
                         EngineName);
INSTANTIATE_TEST_SUITE_P(Engines, ExportConformanceTest,
                         ::testing::Values(kMemory, kSqlite, kPostgres, kDynamoDb, kDynamoDbSharded),
                         EngineName);
INSTANTIATE_TEST_SUITE_P(Engines, DurableStoreConformanceTest,
                         ::testing::Values(kSqlite, kPostgres, kDynamoDb, kDynamoDbSharded),
                         EngineName);

}  // namespace
}  // namespace footfall::store::conformance
