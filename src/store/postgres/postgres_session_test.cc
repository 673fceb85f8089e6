#include "store/postgres/postgres_session.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "store/postgres/fake_postgres_server.h"
#include "store/postgres/libpq_loader.h"

namespace footfall::store::postgres {
namespace {

using std::chrono::milliseconds;
using Conduct = FakePostgresServer::Conduct;
using SteadyClock = std::chrono::steady_clock;

// Deadlines are checked within this much (a loaded CI machine, thread wake-ups).
constexpr milliseconds kSlack{1500};

std::unique_ptr<FakePostgresServer> StartServer(std::vector<Conduct> conducts) {
  StatusOr<std::unique_ptr<FakePostgresServer>> server =
      FakePostgresServer::Start(std::move(conducts));
  EXPECT_TRUE(server.ok()) << server.status().ToString();
  return server.ok() ? std::move(server).value() : nullptr;
}

SessionOptions Options(std::string uri, milliseconds connect_timeout = milliseconds(2000)) {
  SessionOptions options;
  options.uri = std::move(uri);
  options.reconnect_interval = milliseconds(0);
  options.connect_timeout = connect_timeout;
  return options;
}

milliseconds Since(SteadyClock::time_point start) {
  return std::chrono::duration_cast<milliseconds>(SteadyClock::now() - start);
}

class PostgresSessionTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(LoadLibpq().ok()) << LoadLibpq().ToString(); }
};

// Regression test: the connection was opened with PQconnectdb, which waits without end when
// connect_timeout is 0, so a frozen server (SIGSTOP: the kernel still accepts) froze the thread.
TEST_F(PostgresSessionTest, ConnectingToAFrozenServerEndsAtTheConnectTimeout) {
  auto server = StartServer({Conduct::kFrozen});
  ASSERT_NE(server, nullptr);
  for (const char* query : {"?connect_timeout=0", "?connect_timeout=-1", ""}) {
    SCOPED_TRACE(query);
    // The URI sets no positive connect_timeout: the session's own bound applies.
    Session session(Options(server->Uri(query), milliseconds(300)));
    const auto start = SteadyClock::now();
    const Status status = session.Connect();
    EXPECT_EQ(status.code(), StatusCode::kUnavailable) << status.ToString();
    EXPECT_NE(status.message().find("within 300 ms (connect_timeout)"), std::string::npos)
        << status.message();
    EXPECT_GE(Since(start), milliseconds(300));
    EXPECT_LT(Since(start), milliseconds(300) + kSlack);
  }
}

TEST_F(PostgresSessionTest, TheUrisConnectTimeoutBoundsTheAttempt) {
  auto server = StartServer({Conduct::kFrozen});
  ASSERT_NE(server, nullptr);
  // libpq's rule: 1 s counts as 2, lest it fail before a server could answer.
  Session session(Options(server->Uri("?connect_timeout=1"), milliseconds(300)));
  const auto start = SteadyClock::now();
  const Status status = session.Connect();
  EXPECT_EQ(status.code(), StatusCode::kUnavailable) << status.ToString();
  EXPECT_NE(status.message().find("within 2000 ms"), std::string::npos) << status.message();
  EXPECT_GE(Since(start), milliseconds(2000));
  EXPECT_LT(Since(start), milliseconds(2000) + kSlack);
}

// Regression test: after connecting, `SET statement_timeout` ran with PQexec, which waits without
// end; a server that froze between the two froze the writer thread.
TEST_F(PostgresSessionTest, ASessionSetupThatGetsNoAnswerEndsAtTheConnectTimeout) {
  auto server = StartServer({Conduct::kSilentAfterStartup});
  ASSERT_NE(server, nullptr);
  Session session(Options(server->Uri("?connect_timeout=0"), milliseconds(300)));
  const auto start = SteadyClock::now();
  const Status status = session.Connect();
  EXPECT_EQ(status.code(), StatusCode::kUnavailable) << status.ToString();
  EXPECT_NE(status.message().find("configuring the PostgreSQL session: no answer from PostgreSQL "
                                  "within 300 ms"),
            std::string::npos)
      << status.message();
  EXPECT_LT(Since(start), milliseconds(300) + kSlack);
}

TEST_F(PostgresSessionTest, AStatementThatGetsNoAnswerFailsAtItsDeadlineAndTheNextReconnects) {
  auto server = StartServer({Conduct::kSilentAfterSetup, Conduct::kAnswers});
  ASSERT_NE(server, nullptr);
  Session session(Options(server->Uri()));
  ASSERT_TRUE(session.Connect().ok());
  const auto start = SteadyClock::now();
  StatusOr<Result> result = session.Exec("SELECT 1", {}, "reading the total", milliseconds(300));
  EXPECT_EQ(result.status().code(), StatusCode::kDeadlineExceeded) << result.status().ToString();
  EXPECT_EQ(result.status().message(),
            "reading the total: no answer from PostgreSQL within 300 ms");
  EXPECT_GE(Since(start), milliseconds(300));
  EXPECT_LT(Since(start), milliseconds(300) + kSlack);
  // The connection, in an unknown state, was dropped: the next statement gets a new one.
  StatusOr<Result> next = session.Exec("SELECT 1", {}, "reading the total", milliseconds(2000));
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(std::string(Libpq().get_value(next->get(), 0, 0)), "0");
  EXPECT_EQ(server->connections(), 2);
}

// Regression test: on a blocking connection, PQsendQueryParams itself waited for the server to
// take the whole statement; a server that stopped reading held the writer thread for good, before
// the answer's deadline even started.
TEST_F(PostgresSessionTest, AStatementTheServerDoesNotTakeFailsAtItsDeadline) {
  auto server = StartServer({Conduct::kDeafAfterSetup});
  ASSERT_NE(server, nullptr);
  Session session(Options(server->Uri()));
  ASSERT_TRUE(session.Connect().ok());
  // Far more than the socket buffers of both ends hold.
  const std::string batch(64 << 20, 'v');
  const auto start = SteadyClock::now();
  StatusOr<Result> result =
      session.Exec("SELECT $1", {batch}, "recording visits", milliseconds(300));
  EXPECT_EQ(result.status().code(), StatusCode::kDeadlineExceeded) << result.status().ToString();
  EXPECT_EQ(result.status().message(),
            "recording visits: PostgreSQL took no more of the statement within 300 ms");
  EXPECT_LT(Since(start), milliseconds(300) + kSlack);
}

TEST_F(PostgresSessionTest, AfterAFailedAttemptReconnectsAtMostOncePerInterval) {
  auto server = StartServer({Conduct::kFrozen});
  ASSERT_NE(server, nullptr);
  SessionOptions options = Options(server->Uri("?connect_timeout=0"), milliseconds(200));
  options.reconnect_interval = std::chrono::hours(1);
  Session session(options);
  EXPECT_EQ(session.Connect().code(), StatusCode::kUnavailable);
  const auto start = SteadyClock::now();
  StatusOr<Result> result = session.Exec("SELECT 1", {}, "reading the total");
  EXPECT_LT(Since(start), milliseconds(100));  // fails fast: no new attempt
  EXPECT_EQ(result.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(result.status().message().starts_with("database unreachable (retrying): "))
      << result.status().message();
  EXPECT_EQ(server->connections(), 1);
}

TEST_F(PostgresSessionTest, ARefusedConnectionFailsAtOnceWithLibpqsReason) {
  // A port nothing listens on: the fake server's, once it is gone.
  std::string uri;
  {
    auto server = StartServer({Conduct::kFrozen});
    ASSERT_NE(server, nullptr);
    uri = server->Uri();
  }
  Session session(Options(uri));
  const auto start = SteadyClock::now();
  const Status status = session.Connect();
  EXPECT_EQ(status.code(), StatusCode::kUnavailable);
  EXPECT_NE(status.message().find("Connection refused"), std::string::npos) << status.message();
  EXPECT_EQ(status.message().find('\n'), std::string::npos);
  EXPECT_LT(Since(start), milliseconds(1000));
}

}  // namespace
}  // namespace footfall::store::postgres
