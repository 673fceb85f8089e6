// The engines of the Store conformance suites (conformance_engines.h).
#include "tests/conformance_engines.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <future>
#include <map>
#include <vector>

#include "store/dynamodb/dynamodb_store.h"
#include "store/open_store.h"
#include "tests/dynamodb_stream.h"
#include "tests/postgres_server.h"

namespace footfall::store::conformance {

void PrintTo(const Engine& engine, std::ostream* out) { *out << engine.name; }

std::string EngineName(const ::testing::TestParamInfo<Engine>& info) { return info.param.name; }

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

void StoreConformanceTest::SetUp() {
  dir_ = fs::temp_directory_path() /
         ("footfall-conformance-" + std::to_string(::getpid()) + "-" + GetParam().name + "-" +
          ::testing::UnitTest::GetInstance()->current_test_info()->name());
  fs::remove_all(dir_);
  fs::create_directories(dir_);
  uri_ = GetParam().fresh_uri(dir_);
  store_ = Open();
}

void StoreConformanceTest::TearDown() {
  store_.reset();
  fs::remove_all(dir_);
}

std::unique_ptr<Store> StoreConformanceTest::Open() {
  StatusOr<std::unique_ptr<Store>> store = OpenStore(uri_);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(store).value() : nullptr;
}

Visit ConformanceVisit(int i) {
  Visit v;
  char id[40];
  std::snprintf(id, sizeof id, "019ab8f0-0000-7000-8000-%012d", i);
  v.visit_id = id;
  v.timestamp = "2026-11-25T10:00:00.000Z";
  v.time_ms = 1'795'564'800'000 + 10 * 3'600'000;
  v.visitor = "0123456789abcdef0123456789abcdef";
  v.user_agent = "Mozilla/5.0";
  v.path = "/p";
  v.referrer = "news.example";
  v.site = "a.example";
  v.expiration_time = 1'803'376'800;
  return v;
}

void StoreConformanceTest::Settle() {
  if (GetParam().settle) GetParam().settle(*store_, uri_);
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


}  // namespace footfall::store::conformance
