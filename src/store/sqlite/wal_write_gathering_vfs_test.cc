#include "store/sqlite/wal_write_gathering_vfs.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "store/sqlite/sqlite_handle.h"

namespace footfall::store::sqlite {
namespace {

// Write system calls this process has made so far (Linux /proc/self/io "syscw").
long WriteSyscallsSoFar() {
  std::ifstream io("/proc/self/io");
  std::string key;
  long value = 0;
  while (io >> key >> value) {
    if (key == "syscw:") return value;
  }
  ADD_FAILURE() << "no syscw in /proc/self/io";
  return 0;
}

class WalWriteGatheringVfsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("wal_gathering_test." + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A WAL database with synchronous=FULL and a table of one-page rows.
  Connection OpenDatabase(const std::string& name, WalWrites wal_writes) {
    StatusOr<Connection> db = OpenConnection((dir_ / name).string(),
                                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, 1000,
                                             wal_writes);
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    EXPECT_TRUE(Execute(db->get(), "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; "
                                   "CREATE TABLE IF NOT EXISTS rows (id INTEGER PRIMARY KEY, "
                                   "data BLOB NOT NULL)")
                    .ok());
    return std::move(*db);
  }

  // Commits `rows` rows of 3000 bytes each (one page each) in one transaction; returns how many
  // write system calls the commit made.
  static long CommitRows(sqlite3* db, int rows) {
    const long before = WriteSyscallsSoFar();
    std::string sql = "BEGIN;";
    for (int i = 0; i < rows; ++i) sql += "INSERT INTO rows (data) VALUES (zeroblob(3000));";
    sql += "COMMIT;";
    const Status committed = Execute(db, sql.c_str());
    EXPECT_TRUE(committed.ok()) << committed.ToString();
    return WriteSyscallsSoFar() - before;
  }

  static int64_t CountRows(sqlite3* db) {
    StatusOr<Statement> count = Prepare(db, "SELECT count(*) FROM rows");
    EXPECT_TRUE(count.ok());
    EXPECT_EQ(sqlite3_step(count->get()), SQLITE_ROW);
    return sqlite3_column_int64(count->get(), 0);
  }

  std::filesystem::path dir_;
};

TEST_F(WalWriteGatheringVfsTest, IsRegisteredUnderItsName) {
  ASSERT_NE(WalWriteGatheringVfs(), nullptr);
  EXPECT_NE(sqlite3_vfs_find(WalWriteGatheringVfs()), nullptr);
  EXPECT_NE(sqlite3_vfs_find(nullptr), sqlite3_vfs_find(WalWriteGatheringVfs()))
      << "it must not replace the default VFS";
}

TEST_F(WalWriteGatheringVfsTest, ACommitOfManyPagesIsOneWriteInsteadOfTwoPerPage) {
  Connection direct = OpenDatabase("direct.db", WalWrites::kDirect);
  Connection gathered = OpenDatabase("gathered.db", WalWrites::kGatheredPerCommit);
  CommitRows(direct.get(), 1);  // the WAL header is written by the first commit
  CommitRows(gathered.get(), 1);

  const long direct_writes = CommitRows(direct.get(), 20);
  const long gathered_writes = CommitRows(gathered.get(), 20);
  EXPECT_GE(direct_writes, 40) << "SQLite writes a frame header and a page per changed page";
  EXPECT_LE(gathered_writes, 2);
  EXPECT_EQ(CountRows(gathered.get()), 21);
}

TEST_F(WalWriteGatheringVfsTest, OtherConnectionsSeeEveryCommitAtOnce) {
  Connection writer = OpenDatabase("shared.db", WalWrites::kGatheredPerCommit);
  Connection reader = OpenDatabase("shared.db", WalWrites::kDirect);
  for (int commit = 1; commit <= 30; ++commit) {
    CommitRows(writer.get(), commit % 7 + 1);
    int64_t expected = 0;
    for (int i = 1; i <= commit; ++i) expected += i % 7 + 1;
    ASSERT_EQ(CountRows(reader.get()), expected) << "after commit " << commit;
  }
}

TEST_F(WalWriteGatheringVfsTest, CheckpointsAndReopeningKeepEverything) {
  {
    Connection writer = OpenDatabase("reopen.db", WalWrites::kGatheredPerCommit);
    // More than the 128 KiB gathered at most, and more than one automatic checkpoint (every
    // 1000 WAL pages by default), so that flushes in the middle of a transaction, checkpoints
    // reading the WAL back and WAL restarts at offset 0 are all exercised.
    for (int commit = 0; commit < 30; ++commit) CommitRows(writer.get(), 100);
    EXPECT_EQ(CountRows(writer.get()), 3000);
  }
  Connection reopened = OpenDatabase("reopen.db", WalWrites::kDirect);
  EXPECT_EQ(CountRows(reopened.get()), 3000);
  StatusOr<Statement> check = Prepare(reopened.get(), "PRAGMA integrity_check");
  ASSERT_TRUE(check.ok());
  ASSERT_EQ(sqlite3_step(check->get()), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(check->get(), 0)), "ok");
}

TEST_F(WalWriteGatheringVfsTest, ARolledBackTransactionLeavesNothing) {
  Connection writer = OpenDatabase("rollback.db", WalWrites::kGatheredPerCommit);
  CommitRows(writer.get(), 3);
  ASSERT_TRUE(Execute(writer.get(), "BEGIN; INSERT INTO rows (data) VALUES (zeroblob(3000)); "
                                    "ROLLBACK;")
                  .ok());
  CommitRows(writer.get(), 2);
  Connection reader = OpenDatabase("rollback.db", WalWrites::kDirect);
  EXPECT_EQ(CountRows(reader.get()), 5);
}

}  // namespace
}  // namespace footfall::store::sqlite
