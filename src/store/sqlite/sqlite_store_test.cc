#include "store/sqlite/sqlite_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <future>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "store/blocking.h"

namespace footfall::store::sqlite {
namespace {

namespace fs = std::filesystem;

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("footfall-sqlite-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    path_ = (dir_ / "nested" / "footfall.db").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<SqliteStore> OpenStore() {
    SqliteOptions options;
    options.path = path_;
    StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  static Visit MakeVisit(int i) {
    Visit v;
    v.visit_id = "0190" + std::to_string(1000000 + i);
    v.timestamp = "2026-11-25T10:00:00.000Z";
    v.visitor = "0123456789abcdef0123456789abcdef";
    v.user_agent = "UA";
    v.path = "/p";
    v.site = "a.example";
    v.expiration_time = 1;
    return v;
  }

  // What RecordVisit answered one visit.
  struct Answer {
    StatusCode code = StatusCode::kUnimplemented;  // until answered (no write returns it)
    int64_t total = 0;
    int batch_size = 0;
  };
  struct BatchRun {
    std::vector<Answer> answers;  // one per visit, in order
    int commits = 0;              // transactions the batch committed, counted in the WAL
  };

  // Records `visits` as ONE batch. SqliteStore runs GetOrCreateDailySalt and its callback on the
  // writer thread, so a callback that waits holds the writer while the visits queue; released, the
  // group committer takes them all at once (up to max_batch). Nothing can fail between holding and
  // releasing, so the store is never left held.
  BatchRun RecordAsOneBatch(SqliteStore& store, std::vector<Visit> visits) const {
    std::promise<void> writer_held, release_writer;
    store.GetOrCreateDailySalt(1, Salt{}, kNoDeadline,
                               [&, release = release_writer.get_future().share()](StatusOr<Salt> salt) {
                                 EXPECT_TRUE(salt.ok()) << salt.status().ToString();
                                 writer_held.set_value();
                                 release.wait();
                               });
    writer_held.get_future().wait();
    const int commits_before = CountWalCommits();  // the writer is held: nothing commits now
    BatchRun run;
    run.answers.resize(visits.size());
    std::atomic<size_t> remaining{visits.size()};
    std::promise<void> finished;
    for (size_t i = 0; i < visits.size(); ++i) {
      store.RecordVisit(std::move(visits[i]), kNoDeadline, [&, i](StatusOr<RecordedVisit> r) {
        run.answers[i].code = r.status().code();
        if (r.ok()) run.answers[i] = {StatusCode::kOk, r->total, r->batch_size};
        if (--remaining == 0) finished.set_value();
      });
    }
    release_writer.set_value();
    finished.get_future().wait();
    run.commits = CountWalCommits() - commits_before;
    return run;
  }

  // Counts the commits in the database's WAL file, read as SQLite lays it out
  // (https://sqlite.org/fileformat.html#the_write_ahead_log): every committed transaction ends
  // with exactly one frame whose header holds the database size after the commit; the others hold
  // 0. Frames whose salts differ from the WAL header's are left over from before the WAL was last
  // restarted, and end the count. The WAL of these small tests is never checkpointed midway.
  int CountWalCommits() const {
    std::ifstream file(path_ + "-wal", std::ios::binary);
    const std::string wal((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    auto u32 = [&wal](size_t at) {
      return uint32_t{static_cast<uint8_t>(wal[at])} << 24 |
             uint32_t{static_cast<uint8_t>(wal[at + 1])} << 16 |
             uint32_t{static_cast<uint8_t>(wal[at + 2])} << 8 | static_cast<uint8_t>(wal[at + 3]);
    };
    constexpr size_t kWalHeader = 32, kFrameHeader = 24;
    if (wal.size() < kWalHeader) return 0;
    const size_t frame = kFrameHeader + (u32(8) == 1 ? 65536 : u32(8));
    int commits = 0;
    for (size_t at = kWalHeader; at + frame <= wal.size(); at += frame) {
      if (u32(at + 8) != u32(16) || u32(at + 12) != u32(20)) break;
      if (u32(at + 4) != 0) ++commits;
    }
    return commits;
  }

  fs::path dir_;
  std::string path_;
};

TEST_F(SqliteStoreTest, CreatesDirectoryAndCountsFromZero) {
  auto store = OpenStore();
  ASSERT_TRUE(store);
  EXPECT_TRUE(fs::exists(path_));
  EXPECT_EQ(*ReadTotalAndWait(*store), 0);
  EXPECT_EQ(RecordVisitAndWait(*store, MakeVisit(1))->total, 1);
  EXPECT_EQ(RecordVisitAndWait(*store, MakeVisit(2))->total, 2);
  EXPECT_EQ(*ReadTotalAndWait(*store), 2);
}

TEST_F(SqliteStoreTest, ConcurrentVisitsAreBatchedAndEachGetsItsOwnTotal) {
  auto store = OpenStore();
  constexpr int kVisits = 4000;
  std::mutex mu;
  std::set<int64_t> totals;
  std::atomic<int> done{0};
  std::atomic<int> largest_batch{0};
  std::promise<void> all_done;
  for (int i = 0; i < kVisits; ++i) {
    store->RecordVisit(MakeVisit(i), kNoDeadline, [&](StatusOr<RecordedVisit> r) {
      // EXPECT, never ASSERT, in a callback: an ASSERT returns before the visit is counted as
      // done, and the test would hang instead of failing.
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      if (r.ok()) {
        {
          std::lock_guard lock(mu);
          totals.insert(r->total);
        }
        int seen = largest_batch.load();
        while (r->batch_size > seen && !largest_batch.compare_exchange_weak(seen, r->batch_size)) {
        }
      }
      if (++done == kVisits) all_done.set_value();
    });
  }
  all_done.get_future().wait();
  EXPECT_EQ(totals.size(), static_cast<size_t>(kVisits));
  EXPECT_EQ(*totals.begin(), 1);
  EXPECT_EQ(*totals.rbegin(), kVisits);
  EXPECT_GT(largest_batch.load(), 1) << "visits queued together must share a commit";
  EXPECT_EQ(*ReadTotalAndWait(*store), kVisits);
}

TEST_F(SqliteStoreTest, DuplicateVisitFailsAloneWithoutFailingItsBatch) {
  auto store = OpenStore();
  ASSERT_TRUE(RecordVisitAndWait(*store, MakeVisit(7)).ok());
  std::promise<void> finished;
  std::atomic<int> remaining{3};
  std::vector<StatusCode> codes(3);
  for (int i : {0, 1, 2}) {
    store->RecordVisit(MakeVisit(i == 1 ? 7 : 100 + i), kNoDeadline, [&, i](StatusOr<RecordedVisit> r) {
      codes[i] = r.status().code();
      if (--remaining == 0) finished.set_value();
    });
  }
  finished.get_future().wait();
  EXPECT_EQ(codes[0], StatusCode::kOk);
  EXPECT_EQ(codes[1], StatusCode::kAlreadyExists);
  EXPECT_EQ(codes[2], StatusCode::kOk);
  EXPECT_EQ(*ReadTotalAndWait(*store), 3);
}

// Issue: one duplicate visit_id rolled its batch back and recommitted every other visit alone, one
// fsync each — exactly what re-running an import does.
TEST_F(SqliteStoreTest, DuplicateInABatchFailsAloneAndTheBatchCommitsOnce) {
  auto store = OpenStore();
  ASSERT_TRUE(store);
  ASSERT_TRUE(RecordVisitAndWait(*store, MakeVisit(7)).ok());
  ASSERT_EQ(CountWalCommits(), 1) << "the WAL must show the commit of visit 7";

  constexpr int kVisits = 100, kDuplicate = 50;
  std::vector<Visit> visits;
  for (int i = 0; i < kVisits; ++i) visits.push_back(MakeVisit(i == kDuplicate ? 7 : 100 + i));
  const BatchRun run = RecordAsOneBatch(*store, std::move(visits));

  EXPECT_EQ(run.commits, 1) << "the batch must commit once";
  const std::vector<Answer>& answers = run.answers;
  int64_t expected_total = 1;  // visit 7, recorded first
  for (int i = 0; i < kVisits; ++i) {
    if (i == kDuplicate) {
      EXPECT_EQ(answers[i].code, StatusCode::kAlreadyExists);
      continue;
    }
    EXPECT_EQ(answers[i].code, StatusCode::kOk) << i;
    EXPECT_EQ(answers[i].total, ++expected_total) << i;  // batch order, no gap at the duplicate
    EXPECT_EQ(answers[i].batch_size, kVisits - 1) << i;
  }
  // Stored and counted once: the counter, the raw visits and the aggregates agree.
  EXPECT_EQ(*ReadTotalAndWait(*store), kVisits);
  StatusOr<VisitPage> page = ScanVisitsAndWait(*store, 0, int64_t{1} << 50, "", 1000);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(page->visits.size(), static_cast<size_t>(kVisits));
  for (const std::string path : {"/p", ""}) {
    StatusOr<int64_t> views = Wait<int64_t>([&](Callback<int64_t> done) {
      store->ReadPageViews("a.example", path, kNoDeadline, std::move(done));
    });
    ASSERT_TRUE(views.ok()) << views.status().ToString();
    EXPECT_EQ(*views, kVisits) << "page views of '" << path << "'";
  }
}

TEST_F(SqliteStoreTest, BatchOfOnlyDuplicatesCommitsNothing) {
  // Re-running an import that is already stored: every visit fails, and nothing is written.
  auto store = OpenStore();
  ASSERT_TRUE(store);
  ASSERT_TRUE(RecordVisitAndWait(*store, MakeVisit(1)).ok());
  ASSERT_TRUE(RecordVisitAndWait(*store, MakeVisit(2)).ok());
  const BatchRun run = RecordAsOneBatch(*store, {MakeVisit(1), MakeVisit(2)});
  EXPECT_EQ(run.answers[0].code, StatusCode::kAlreadyExists);
  EXPECT_EQ(run.answers[1].code, StatusCode::kAlreadyExists);
  EXPECT_EQ(run.commits, 0);
  EXPECT_EQ(*ReadTotalAndWait(*store), 2);
}

TEST_F(SqliteStoreTest, OtherErrorInTheMiddleOfABatchFailsTheWholeBatch) {
  auto store = OpenStore();
  ASSERT_TRUE(store);
  ASSERT_TRUE(RecordVisitAndWait(*store, MakeVisit(1)).ok());
  {  // A non-constraint error (SQLITE_TOOBIG) when visit 105 is inserted.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    const std::string trigger = "CREATE TRIGGER fail_one BEFORE INSERT ON visits WHEN NEW.visit_id = '" +
                                MakeVisit(105).visit_id +
                                "' BEGIN SELECT zeroblob(2000000000); END";
    EXPECT_EQ(sqlite3_exec(db, trigger.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  std::vector<Visit> visits;
  for (int i = 100; i < 110; ++i) visits.push_back(MakeVisit(i));
  const BatchRun run = RecordAsOneBatch(*store, std::move(visits));
  for (const Answer& answer : run.answers) EXPECT_EQ(answer.code, StatusCode::kInternal);
  EXPECT_EQ(run.commits, 0);
  EXPECT_EQ(*ReadTotalAndWait(*store), 1);
  StatusOr<VisitPage> page = ScanVisitsAndWait(*store, 0, int64_t{1} << 50, "", 1000);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(page->visits.size(), 1u);
}

TEST_F(SqliteStoreTest, LargeBatchesStoreEveryFieldOfEveryVisit) {
  // Visits committed together each keep their own fields (the statements are reused across the
  // rows of a batch).
  auto store = OpenStore();
  constexpr int kVisits = 200;  // queued at once: all but the first commit come in large batches
  std::promise<void> finished;
  std::atomic<int> remaining{kVisits};
  std::atomic<int> failed{0};
  std::atomic<int> largest_batch{0};
  for (int i = 0; i < kVisits; ++i) {
    Visit visit = MakeVisit(i);
    visit.path = "/p" + std::to_string(i);
    visit.user_agent = "UA " + std::to_string(i);
    visit.screen = i % 2 ? "phone" : "desktop";
    store->RecordVisit(std::move(visit), kNoDeadline, [&](StatusOr<RecordedVisit> r) {
      if (!r.ok()) ++failed;
      int seen = largest_batch.load();
      while (r.ok() && r->batch_size > seen &&
             !largest_batch.compare_exchange_weak(seen, r->batch_size)) {
      }
      if (--remaining == 0) finished.set_value();
    });
  }
  finished.get_future().wait();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_GT(largest_batch.load(), 1) << "visits queued together must share a commit";
  StatusOr<VisitPage> page = ScanVisitsAndWait(*store, 0, int64_t{1} << 50, "", 1000);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->visits.size(), static_cast<size_t>(kVisits));
  for (const Visit& stored : page->visits) {
    const int i = std::stoi(stored.visit_id.substr(4)) - 1000000;
    EXPECT_EQ(stored.path, "/p" + std::to_string(i));
    EXPECT_EQ(stored.user_agent, "UA " + std::to_string(i));
    EXPECT_EQ(stored.screen, i % 2 ? "phone" : "desktop");
    EXPECT_EQ(stored.site, "a.example");
  }
}

TEST_F(SqliteStoreTest, DuplicateInALargeBatchFailsAlone) {
  auto store = OpenStore();
  ASSERT_TRUE(RecordVisitAndWait(*store, MakeVisit(7)).ok());
  constexpr int kVisits = 100;
  std::promise<void> finished;
  std::atomic<int> remaining{kVisits};
  std::vector<StatusCode> codes(kVisits);
  for (int i = 0; i < kVisits; ++i) {
    store->RecordVisit(MakeVisit(i == 60 ? 7 : 100 + i), kNoDeadline,
                       [&, i](StatusOr<RecordedVisit> r) {
                         codes[i] = r.status().code();
                         if (--remaining == 0) finished.set_value();
                       });
  }
  finished.get_future().wait();
  for (int i = 0; i < kVisits; ++i) {
    EXPECT_EQ(codes[i], i == 60 ? StatusCode::kAlreadyExists : StatusCode::kOk) << i;
  }
  EXPECT_EQ(*ReadTotalAndWait(*store), kVisits);  // visit 7 and the 99 others
}

TEST_F(SqliteStoreTest, ReopeningAnUpToDateDatabaseWritesNothing) {
  {
    auto store = OpenStore();
    ASSERT_TRUE(RecordVisitAndWait(*store, MakeVisit(1)).ok());
  }
  // A clean close checkpoints and removes the WAL; opening again must not start it with a write
  // (a restart then costs no fsync before serving, and works on a full disk).
  auto store = OpenStore();
  ASSERT_TRUE(store);
  EXPECT_EQ(*ReadTotalAndWait(*store), 1);
  std::error_code error;
  const auto wal_bytes = fs::file_size(path_ + "-wal", error);
  EXPECT_TRUE(error || wal_bytes == 0) << wal_bytes << " bytes written to the WAL on open";
}

TEST_F(SqliteStoreTest, UpgradesAnOlderSchemaOnOpen) {
  {
    auto store = OpenStore();
    ASSERT_TRUE(RecordVisitAndWait(*store, MakeVisit(1)).ok());
  }
  {  // Back to a version 2 database: no `source` column yet.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "ALTER TABLE visits DROP COLUMN source; PRAGMA user_version = 2",
                           nullptr, nullptr, nullptr),
              SQLITE_OK)
        << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  auto store = OpenStore();
  ASSERT_TRUE(store);
  EXPECT_EQ(*ReadTotalAndWait(*store), 1);
  Visit visit = MakeVisit(2);
  visit.source = "origin";
  ASSERT_TRUE(RecordVisitAndWait(*store, visit).ok());
  StatusOr<VisitPage> page = ScanVisitsAndWait(*store, 0, int64_t{1} << 50, "", 10);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->visits.size(), 2u);
  EXPECT_EQ(page->visits[0].source, "");  // stored before the column existed
  EXPECT_EQ(page->visits[1].source, "origin");
}

TEST_F(SqliteStoreTest, RefusesNewerSchemaAndNonDatabases) {
  {
    auto store = OpenStore();
  }
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  SqliteOptions options;
  options.path = path_;
  EXPECT_EQ(SqliteStore::Open(options).status().code(), StatusCode::kFailedPrecondition);

  const std::string garbage = (dir_ / "garbage.db").string();
  std::ofstream(garbage) << std::string(8192, 'x');
  options.path = garbage;
  EXPECT_FALSE(SqliteStore::Open(options).ok());
}

TEST_F(SqliteStoreTest, DestructionCommitsQueuedVisits) {
  std::atomic<int> acknowledged{0};
  {
    auto store = OpenStore();
    for (int i = 0; i < 500; ++i) {
      store->RecordVisit(MakeVisit(i), kNoDeadline, [&](StatusOr<RecordedVisit> r) {
        if (r.ok()) ++acknowledged;
      });
    }
  }
  EXPECT_EQ(acknowledged.load(), 500);
  auto store = OpenStore();
  EXPECT_EQ(*ReadTotalAndWait(*store), 500);
}

}  // namespace
}  // namespace footfall::store::sqlite
