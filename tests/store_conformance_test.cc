// The Store conformance suite: the same behaviour checks against every engine, each a real one
// (a SQLite file here; PostgreSQL and DynamoDB join as their engines land).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <functional>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "base/utc_time.h"
#include "store/blocking.h"
#include "store/dynamodb/dynamodb_store.h"
#include "store/memory_store.h"
#include "store/open_store.h"
#include "tests/dynamodb_stream.h"
#include "tests/moto_server.h"
#include "tests/postgres_server.h"

namespace footfall::store {
namespace {

namespace fs = std::filesystem;

// One moto_server for the whole binary, started on first use. If it cannot start, every DynamoDB
// test fails with the reason (never skips).
const testing::MotoServer* Moto() {
  // A static object, not a leaked pointer: its destructor stops the server at exit.
  static StatusOr<std::unique_ptr<testing::MotoServer>> moto = [] {
    // moto accepts any credentials; the store insists on having some.
    ::setenv("AWS_ACCESS_KEY_ID", "testing", 1);
    ::setenv("AWS_SECRET_ACCESS_KEY", "testing", 1);
    ::setenv("AWS_SESSION_TOKEN", "testing-session", 1);
    return testing::MotoServer::Start();
  }();
  EXPECT_TRUE(moto.ok()) << moto.status().ToString();
  return moto.ok() ? moto.value().get() : nullptr;
}

// A fresh DynamoDB table on moto, created as `footfall migrate` does.
std::string FreshDynamoDbTable(const fs::path& dir, int shards) {
  static int next_table = 0;
  const testing::MotoServer* moto = Moto();
  if (moto == nullptr) return "dynamodb://unavailable?region=us-east-1&endpoint=http://127.0.0.1:1";
  const std::string uri = "dynamodb://footfall-" + dir.filename().string().substr(0, 40) + "-" +
                          std::to_string(++next_table) + "?region=us-east-1&endpoint=" +
                          moto->endpoint() + "&shards=" + std::to_string(shards);
  Status migrated = MigrateStore(uri);
  EXPECT_TRUE(migrated.ok()) << migrated.ToString();
  return uri;
}

// One PostgreSQL server for the whole binary, started on first use; each test gets its own
// database on it. If it cannot start, every PostgreSQL test fails with the reason.
std::string FreshPostgresDatabase(const fs::path&) {
  static StatusOr<std::unique_ptr<testing::PostgresServer>> server =
      testing::PostgresServer::Start();
  EXPECT_TRUE(server.ok()) << server.status().ToString();
  if (!server.ok()) return "postgres://nobody@127.0.0.1:1/unavailable";
  static int next_database = 0;
  StatusOr<std::string> uri =
      (*server)->CreateDatabase("conformance_" + std::to_string(++next_database));
  EXPECT_TRUE(uri.ok()) << uri.status().ToString();
  return uri.ok() ? *uri : "postgres://nobody@127.0.0.1:1/unavailable";
}

// How to get a fresh instance of one engine.
struct Engine {
  std::string name;
  // Returns a store URI for a fresh, empty database in `dir`.
  std::function<std::string(const fs::path& dir)> fresh_uri;
  // Whether each visit's returned total is exact (false for sharded counters, where the total
  // returned is the visit's shard plus a concurrent read of the others).
  bool exact_totals = true;
  // For engines whose aggregates are written later (DynamoDB fed by its stream): brings them up
  // to date with every visit recorded so far. Called before statistics are read.
  std::function<void(Store& store, const std::string& uri)> settle = nullptr;
};

void PrintTo(const Engine& engine, std::ostream* out) { *out << engine.name; }

class StoreConformanceTest : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("footfall-conformance-" + std::to_string(::getpid()) + "-" + GetParam().name + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    uri_ = GetParam().fresh_uri(dir_);
    store_ = Open();
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

  std::unique_ptr<Store> Open() {
    StatusOr<std::unique_ptr<Store>> store = OpenStore(uri_);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  static Visit MakeVisit(int i) {
    Visit v;
    char id[40];
    std::snprintf(id, sizeof id, "019ab8f0-0000-7000-8000-%012d", i);
    v.visit_id = id;
    v.timestamp = "2026-11-25T10:00:00.000Z";
    v.visitor = "0123456789abcdef0123456789abcdef";
    v.user_agent = "Mozilla/5.0";
    v.path = "/p";
    v.referrer = "news.example";
    v.site = "a.example";
    v.expiration_time = 1'803'376'800;
    return v;
  }

  void Settle() {
    if (GetParam().settle) GetParam().settle(*store_, uri_);
  }

  fs::path dir_;
  std::string uri_;
  std::unique_ptr<Store> store_;
};

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

const Engine kMemory{"memory", [](const fs::path&) { return std::string("memory:"); }};
const Engine kSqlite{"sqlite",
                     [](const fs::path& dir) { return "sqlite:" + (dir / "footfall.db").string(); }};

const Engine kDynamoDb{"dynamodb",
                       [](const fs::path& dir) { return FreshDynamoDbTable(dir, 1); }};
const Engine kDynamoDbSharded{"dynamodb_sharded",
                              [](const fs::path& dir) { return FreshDynamoDbTable(dir, 4); },
                              /*exact_totals=*/false};

// The table's stream, read through the Streams API, is what feeds the aggregates: each settle
// hands the new records to the store as the aggregates Lambda would get them — and then again as
// Lambda may redeliver them (the same batch after a lost answer, then split in two after a
// failure), which must not count anything twice.
void SettleFromStream(Store& store, const std::string& uri) {
  static std::map<std::string, std::unique_ptr<testing::DynamoDbStreamReader>> readers;
  std::unique_ptr<testing::DynamoDbStreamReader>& reader = readers[uri];
  if (!reader) {
    const std::string table = uri.substr(11, uri.find('?') - 11);
    StatusOr<std::unique_ptr<testing::DynamoDbStreamReader>> opened =
        testing::DynamoDbStreamReader::Open(table, Moto()->endpoint());
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    reader = std::move(opened).value();
  }
  StatusOr<std::vector<dynamodb::json>> read = reader->ReadNew();
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  std::vector<dynamodb::StreamRecord> records;
  int64_t visits = 0;
  for (const dynamodb::json& record : *read) {
    records.push_back(dynamodb::ClassifyStreamRecord(record));
    if (records.back().kind == dynamodb::StreamRecord::Kind::kVisit) ++visits;
    EXPECT_NE(records.back().kind, dynamodb::StreamRecord::Kind::kPoison)
        << records.back().problem;
  }
  auto& dynamodb_store = dynamic_cast<dynamodb::DynamoDbStore&>(store);
  auto apply = [&](size_t begin, size_t end) {
    std::promise<dynamodb::ApplyResult> applied;
    dynamodb_store.ApplyStreamRecords(
        std::vector<dynamodb::StreamRecord>(records.begin() + begin, records.begin() + end),
        std::chrono::steady_clock::now() + std::chrono::seconds(30),
        [&](dynamodb::ApplyResult result) { applied.set_value(std::move(result)); });
    dynamodb::ApplyResult result = applied.get_future().get();
    EXPECT_TRUE(result.status.ok()) << result.status.ToString();
    return result;
  };
  EXPECT_EQ(apply(0, records.size()).visits_applied, visits);
  const dynamodb::ApplyResult again = apply(0, records.size());
  EXPECT_EQ(again.visits_applied, 0);
  EXPECT_EQ(again.visits_already_applied, visits);
  EXPECT_EQ(apply(0, records.size() / 2).visits_applied, 0);
  EXPECT_EQ(apply(records.size() / 2, records.size()).visits_applied, 0);
}

const Engine kDynamoDbStream{
    "dynamodb_stream",
    [](const fs::path& dir) { return FreshDynamoDbTable(dir, 1) + "&aggregates=stream"; },
    /*exact_totals=*/true, SettleFromStream};

// Sharded counter rows, one instance: each batch adds to one row and reads the sum in the same
// statement, so per-visit totals stay exact.
const Engine kPostgres{"postgres", FreshPostgresDatabase};

std::string EngineName(const ::testing::TestParamInfo<Engine>& info) { return info.param.name; }

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
}  // namespace footfall::store
