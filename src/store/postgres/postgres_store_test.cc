#include "store/postgres/postgres_store.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>

#include "store/blocking.h"
#include "store/postgres/fake_postgres_server.h"

namespace footfall::store::postgres {
namespace {

using std::chrono::milliseconds;
using Conduct = FakePostgresServer::Conduct;
using SteadyClock = std::chrono::steady_clock;

Visit AVisit() {
  Visit visit;
  visit.visit_id = "0190a5b4-0000-7000-8000-000000000001";
  visit.timestamp = "2026-01-02T03:04:05.006Z";
  visit.time_ms = 1'767'323'045'006;
  visit.site = "example.com";
  visit.path = "/";
  return visit;
}

// Opens a store on `server`, whose first connection (the migration step of Open) must be answered,
// then records a visit and reads the total at once. Expects both to fail with kUnavailable within
// the 2 s connect deadline, on the writer's and the reader's thread alike, and the next call to
// fail at once (no new attempt before reconnect_interval).
void ExpectCallsFailWithinTheConnectDeadline(FakePostgresServer& server, const std::string& uri) {
  PostgresOptions options;
  options.uri = uri;
  options.connect_timeout_seconds = 2;
  options.reconnect_interval = std::chrono::hours(1);  // no second attempt during the test
  StatusOr<std::unique_ptr<PostgresStore>> store = PostgresStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status().ToString();

  const auto start = SteadyClock::now();
  std::future<StatusOr<int64_t>> total =
      std::async(std::launch::async, [&] { return ReadTotalAndWait(**store); });
  StatusOr<RecordedVisit> recorded = RecordVisitAndWait(**store, AVisit());
  const StatusOr<int64_t> read = total.get();
  const auto elapsed = std::chrono::duration_cast<milliseconds>(SteadyClock::now() - start);

  EXPECT_EQ(recorded.status().code(), StatusCode::kUnavailable) << recorded.status().ToString();
  EXPECT_EQ(read.status().code(), StatusCode::kUnavailable) << read.status().ToString();
  EXPECT_NE(read.status().message().find("within 2000 ms"), std::string::npos)
      << read.status().message();
  EXPECT_GE(elapsed, milliseconds(2000));
  EXPECT_LT(elapsed, milliseconds(3500));  // both threads at once, each within its deadline
  const auto again = SteadyClock::now();
  EXPECT_EQ(CheckReadyAndWait(**store).code(), StatusCode::kUnavailable);
  EXPECT_LT(SteadyClock::now() - again, milliseconds(100));
  EXPECT_EQ(server.connections(), 3);  // migration, writer, reader
}

// Regression test: the store's threads connected with PQconnectdb, which waits without end when
// the URI says connect_timeout=0; a PostgreSQL frozen before they connected (SIGSTOP, a frozen VM:
// the kernel still accepts connections) froze the writer for good. footfall's bound applies.
TEST(PostgresStoreTest, AServerFrozenBeforeTheStoreConnectsFailsCallsWithinTheConnectDeadline) {
  StatusOr<std::unique_ptr<FakePostgresServer>> server =
      FakePostgresServer::Start({Conduct::kAnswers, Conduct::kFrozen});
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  ExpectCallsFailWithinTheConnectDeadline(**server, (*server)->Uri("?connect_timeout=0"));
}

// Regression test: after connecting, the session's `SET statement_timeout` ran with PQexec, which
// waits without end: a server that froze right after letting footfall in froze the writer.
TEST(PostgresStoreTest, AServerFrozenAfterTheStartupFailsCallsWithinTheConnectDeadline) {
  StatusOr<std::unique_ptr<FakePostgresServer>> server =
      FakePostgresServer::Start({Conduct::kAnswers, Conduct::kSilentAfterStartup});
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  ExpectCallsFailWithinTheConnectDeadline(**server, (*server)->Uri());
}

}  // namespace
}  // namespace footfall::store::postgres
