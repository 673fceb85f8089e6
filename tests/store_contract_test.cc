// The calling contract of store/store.h, checked on every engine (conformance_engines.h):
// - every call runs `done` exactly once: on the caller's thread only while the call is running,
//   otherwise on a thread the store owns — never later on a thread that happens to call again;
// - a deadline that has passed ends every call without a hang: network engines fail it with
//   kDeadlineExceeded, local engines may still do the work;
// - destroying a store completes every queued call and keeps every write it acknowledged;
// - a failing engine (its server gone, its database locked) answers every call once, with an
//   error a caller can act on, within a bound.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <set>
#include <thread>

#include "store/blocking.h"
#include "store/open_store.h"
#include "store/sqlite/sqlite_store.h"
#include "tests/conformance_engines.h"
#include "tests/postgres_server.h"

namespace footfall::store::conformance {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using SteadyClock = std::chrono::steady_clock;

// What one call's `done` saw.
struct Outcome {
  std::string call;
  Status status;
  int times_done = 0;
  bool on_caller_thread = false;
  bool during_the_call = false;
  SteadyClock::duration took{};
};

// Calls every Store method once, each from this thread, and waits (up to `wait`) until every
// `done` ran. The outcomes are stable once it returns: a late second `done` is caught by the
// caller looking again after the store is gone.
class EveryCall {
 public:
  EveryCall(Store& store, Deadline deadline, const Visit& visit) {
    Salt salt;
    salt.fill(7);
    StatsQuery query;
    query.site = visit.site;
    query.from_ms = 1'795'564'800'000;
    query.to_ms = query.from_ms + 86'400'000;
    Run("RecordVisit", [&](auto done) {
      store.RecordVisit(visit, deadline, [done](StatusOr<RecordedVisit> r) { done(r.status()); });
    });
    Run("ReadTotal", [&](auto done) {
      store.ReadTotal(deadline, [done](StatusOr<int64_t> r) { done(r.status()); });
    });
    Run("GetOrCreateDailySalt", [&](auto done) {
      store.GetOrCreateDailySalt(20'420, salt, deadline,
                                 [done](StatusOr<Salt> r) { done(r.status()); });
    });
    Run("DeleteSaltsBefore", [&](auto done) {
      store.DeleteSaltsBefore(20'000, deadline, [done](StatusOr<int64_t> r) { done(r.status()); });
    });
    Run("RecordDrop", [&](auto done) {
      store.RecordDrop(visit.site, visit.time_ms, "bot", deadline, done);
    });
    Run("QueryStats", [&](auto done) {
      store.QueryStats(query, deadline, [done](StatusOr<Stats> r) { done(r.status()); });
    });
    Run("ReadPageViews", [&](auto done) {
      store.ReadPageViews(visit.site, visit.path, deadline,
                          [done](StatusOr<int64_t> r) { done(r.status()); });
    });
    Run("ScanVisits", [&](auto done) {
      store.ScanVisits(0, 4'000'000'000'000, "", 10, deadline,
                       [done](StatusOr<VisitPage> r) { done(r.status()); });
    });
    Run("PruneExpired", [&](auto done) {
      store.PruneExpired(1'000, deadline, [done](StatusOr<int64_t> r) { done(r.status()); });
    });
    Run("CheckReady", [&](auto done) { store.CheckReady(deadline, done); });
  }

  // Waits until every call was answered or `wait` passed; false if one was not.
  bool WaitForAll(SteadyClock::duration wait) {
    std::unique_lock lock(state_->mu);
    return state_->all_done.wait_for(lock, wait, [&] {
      for (const Slot& slot : state_->slots) {
        if (slot.outcome.times_done == 0) return false;
      }
      return true;
    });
  }

  std::vector<Outcome> Outcomes() const {
    std::lock_guard lock(state_->mu);
    std::vector<Outcome> outcomes;
    for (const Slot& slot : state_->slots) outcomes.push_back(slot.outcome);
    return outcomes;
  }

 private:
  struct Slot {
    Outcome outcome;
    bool running = true;
    SteadyClock::time_point start;
  };
  // Shared with the callbacks, so that a late second `done` finds it still there.
  struct State {
    std::mutex mu;
    std::condition_variable all_done;
    std::deque<Slot> slots;  // a deque: callbacks hold indexes, slots never move
  };

  template <typename Start>
  void Run(const char* name, Start start) {
    size_t index;
    {
      std::lock_guard lock(state_->mu);
      index = state_->slots.size();
      Slot& slot = state_->slots.emplace_back();
      slot.outcome.call = name;
      slot.start = SteadyClock::now();
    }
    const std::thread::id caller = std::this_thread::get_id();
    start([state = state_, index, caller](Status status) {
      std::lock_guard lock(state->mu);
      Slot& slot = state->slots[index];
      if (++slot.outcome.times_done == 1) {
        slot.outcome.status = std::move(status);
        slot.outcome.on_caller_thread = std::this_thread::get_id() == caller;
        slot.outcome.during_the_call = slot.running;
        slot.outcome.took = SteadyClock::now() - slot.start;
      }
      state->all_done.notify_all();
    });
    std::lock_guard lock(state_->mu);
    state_->slots[index].running = false;
  }

  std::shared_ptr<State> state_ = std::make_shared<State>();
};

// The thread rule of store.h, for every outcome.
void ExpectDoneOnceOnAPermittedThread(const std::vector<Outcome>& outcomes) {
  for (const Outcome& outcome : outcomes) {
    SCOPED_TRACE(outcome.call);
    EXPECT_EQ(outcome.times_done, 1);
    if (outcome.on_caller_thread) {
      EXPECT_TRUE(outcome.during_the_call)
          << "done ran on the caller's thread after the call had returned";
    }
  }
}

using StoreContractTest = StoreConformanceTest;

TEST_P(StoreContractTest, EveryCallAnswersOnceOnTheCallersThreadOnlyWhileItRuns) {
  ASSERT_TRUE(store_);
  // From two threads at once, so that a store that completes one caller's call inline during
  // another caller's call would be caught.
  std::vector<Outcome> outcomes;
  std::mutex mu;
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      EveryCall calls(*store_, kNoDeadline, ConformanceVisit(t));
      EXPECT_TRUE(calls.WaitForAll(seconds(30)));
      std::lock_guard lock(mu);
      for (Outcome& outcome : calls.Outcomes()) {
        EXPECT_TRUE(outcome.status.ok()) << outcome.call << ": " << outcome.status.ToString();
        outcomes.push_back(std::move(outcome));
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  ExpectDoneOnceOnAPermittedThread(outcomes);
}

TEST_P(StoreContractTest, APassedDeadlineEndsEveryCallWithoutAHang) {
  ASSERT_TRUE(store_);
  const bool network_engine = GetParam().name.starts_with("dynamodb");
  EveryCall calls(*store_, SteadyClock::now() - seconds(1), ConformanceVisit(1));
  ASSERT_TRUE(calls.WaitForAll(seconds(30))) << "a call with a passed deadline never ended";
  const std::vector<Outcome> outcomes = calls.Outcomes();
  ExpectDoneOnceOnAPermittedThread(outcomes);
  for (const Outcome& outcome : outcomes) {
    SCOPED_TRACE(outcome.call);
    // DynamoDB's PruneExpired is left to the table's TTL: no request, nothing to time out.
    if (network_engine && outcome.call != "PruneExpired") {
      EXPECT_EQ(outcome.status.code(), StatusCode::kDeadlineExceeded) << outcome.status.ToString();
      EXPECT_LT(outcome.took, seconds(2)) << "a passed deadline must not wait for the network";
    } else {
      // Local engines may ignore the deadline (store.h); they must still answer, correctly.
      EXPECT_TRUE(outcome.status.ok() || outcome.status.code() == StatusCode::kDeadlineExceeded)
          << outcome.status.ToString();
    }
  }
  // The visit was stored or it was not: never half (the count agrees with the visits).
  const StatusOr<VisitPage> page = ScanVisitsAndWait(*store_, 0, 4'000'000'000'000, "", 10);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(*ReadTotalAndWait(*store_), static_cast<int64_t>(page->visits.size()));
}

TEST_P(StoreContractTest, DestroyingTheStoreCompletesEveryQueuedCallAndKeepsItsWrites) {
  ASSERT_TRUE(store_);
  constexpr int kVisits = 40;
  std::atomic<int> done_calls{0}, acknowledged{0}, twice{0};
  std::vector<std::shared_ptr<std::atomic<int>>> times(kVisits);
  for (int i = 0; i < kVisits; ++i) {
    times[i] = std::make_shared<std::atomic<int>>(0);
    store_->RecordVisit(ConformanceVisit(100 + i), kNoDeadline,
                        [&, count = times[i]](StatusOr<RecordedVisit> recorded) {
                          if (count->fetch_add(1) > 0) ++twice;
                          if (recorded.ok()) ++acknowledged;
                          ++done_calls;
                        });
  }
  store_.reset();  // at once: most calls are still queued
  EXPECT_EQ(done_calls.load(), kVisits) << "a queued call's done was lost";
  EXPECT_EQ(twice.load(), 0);
  if (GetParam().name == "memory") return;  // nothing outlives a memory store
  store_ = Open();
  ASSERT_TRUE(store_);
  EXPECT_EQ(*ReadTotalAndWait(*store_), acknowledged.load())
      << "every acknowledged visit is kept, and nothing else";
}

INSTANTIATE_TEST_SUITE_P(Engines, StoreContractTest,
                         ::testing::Values(kMemory, kSqlite, kPostgres, kDynamoDb,
                                           kDynamoDbSharded, kDynamoDbStream),
                         EngineName);

// A store whose engine cannot do its work, and what keeps it so until the test ends.
struct FailingStore {
  std::unique_ptr<Store> store;
  std::shared_ptr<void> cause;
  // Calls that may still succeed: what the engine does without the part that fails.
  std::set<std::string> may_succeed;
  // How long a call may take to fail: the engine's own timeout, plus scheduling.
  SteadyClock::duration bound;
};

struct FailingEngine {
  std::string name;
  std::function<FailingStore(const fs::path& dir)> make;
};

void PrintTo(const FailingEngine& engine, std::ostream* out) { *out << engine.name; }

std::unique_ptr<Store> OpenOrFail(const std::string& uri) {
  StatusOr<std::unique_ptr<Store>> store = OpenStore(uri);
  EXPECT_TRUE(store.ok()) << uri << ": " << store.status().ToString();
  return store.ok() ? std::move(store).value() : nullptr;
}

// DynamoDB whose endpoint refuses connections: a loopback port bound but not listening, held by
// the test so that nothing else can take it.
FailingStore DynamoDbRefused(const fs::path&) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  const std::string uri = "dynamodb://refused?region=us-east-1&endpoint=http://127.0.0.1:" +
                          std::to_string(ntohs(address.sin_port));
  Moto();  // the fixture's credentials (moto accepts any; the store insists on having some)
  return {OpenOrFail(uri), std::shared_ptr<void>(nullptr, [fd](void*) { ::close(fd); }),
          {"PruneExpired"}, seconds(3)};
}

// PostgreSQL stopped after the store connected: its own server, not the binary's shared one.
FailingStore PostgresStopped(const fs::path&) {
  StatusOr<std::unique_ptr<testing::PostgresServer>> server = testing::PostgresServer::Start();
  EXPECT_TRUE(server.ok()) << server.status().ToString();
  if (!server.ok()) return {};
  StatusOr<std::string> uri = (*server)->CreateDatabase("contract");
  EXPECT_TRUE(uri.ok()) << uri.status().ToString();
  if (!uri.ok()) return {};
  std::unique_ptr<Store> store = OpenOrFail(*uri);
  EXPECT_TRUE((*server)->Stop().ok());
  // connect_timeout (2 s) is the bound of a call while the server is down.
  return {std::move(store), std::shared_ptr<testing::PostgresServer>(std::move(*server)),
          {"RecordDrop"},  // drops are coalesced in memory and written later
          seconds(5)};
}

// SQLite whose database another connection holds locked for writing (BEGIN EXCLUSIVE), as
// another process would: writes wait out the busy timeout (5 s by default; 300 ms here, so that
// the four writes queued behind each other stay short) and fail; reads go on (WAL).
FailingStore SqliteLocked(const fs::path& dir) {
  const std::string path = (dir / "locked.db").string();
  StatusOr<std::unique_ptr<sqlite::SqliteStore>> store =
      sqlite::SqliteStore::Open({.path = path, .busy_timeout_ms = 300});
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  if (!store.ok()) return {};
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  EXPECT_EQ(sqlite3_exec(db, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
  return {std::move(store).value(), std::shared_ptr<sqlite3>(db, [](sqlite3* held) {
            sqlite3_exec(held, "ROLLBACK", nullptr, nullptr, nullptr);
            sqlite3_close(held);
          }),
          {"ReadTotal", "QueryStats", "ReadPageViews", "ScanVisits", "RecordDrop"}, seconds(5)};
}

class FailingEngineTest : public ::testing::TestWithParam<FailingEngine> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("footfall-contract-" + std::to_string(::getpid()) +
                                        "-" + GetParam().name);
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_P(FailingEngineTest, AnswersEveryCallOnceWithAnErrorACallerCanActOn) {
  FailingStore failing = GetParam().make(dir_);
  ASSERT_TRUE(failing.store);
  EveryCall calls(*failing.store, SteadyClock::now() + seconds(2), ConformanceVisit(1));
  ASSERT_TRUE(calls.WaitForAll(failing.bound + seconds(5))) << "a call never ended";
  std::vector<Outcome> outcomes = calls.Outcomes();
  ExpectDoneOnceOnAPermittedThread(outcomes);
  for (const Outcome& outcome : outcomes) {
    SCOPED_TRACE(outcome.call);
    EXPECT_LE(outcome.took, failing.bound);
    if (outcome.status.ok()) {
      EXPECT_TRUE(failing.may_succeed.contains(outcome.call)) << "succeeded on a failing engine";
      continue;
    }
    // What a caller can act on: retry later (503 + Retry-After), or a deadline that passed.
    const StatusCode code = outcome.status.code();
    EXPECT_TRUE(code == StatusCode::kUnavailable || code == StatusCode::kDeadlineExceeded ||
                code == StatusCode::kResourceExhausted)
        << outcome.status.ToString();
  }
  failing.store.reset();  // completes whatever is left; nothing may answer a second time
  for (const Outcome& outcome : calls.Outcomes()) EXPECT_EQ(outcome.times_done, 1) << outcome.call;
}

INSTANTIATE_TEST_SUITE_P(Engines, FailingEngineTest,
                         ::testing::Values(FailingEngine{"sqlite_locked", SqliteLocked},
                                           FailingEngine{"postgres_stopped", PostgresStopped},
                                           FailingEngine{"dynamodb_refused", DynamoDbRefused}),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace footfall::store::conformance
