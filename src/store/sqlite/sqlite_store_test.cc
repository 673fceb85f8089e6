#include "store/sqlite/sqlite_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

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
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      {
        std::lock_guard lock(mu);
        totals.insert(r->total);
      }
      int seen = largest_batch.load();
      while (r->batch_size > seen && !largest_batch.compare_exchange_weak(seen, r->batch_size)) {
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
