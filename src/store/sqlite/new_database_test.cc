#include "store/sqlite/new_database.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <barrier>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>

#include "store/sqlite/sqlite_handle.h"

namespace footfall::store::sqlite {
namespace {

namespace fs = std::filesystem;

class NewDatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("footfall-new-database-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "footfall.db").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::set<std::string> FilesInDirectory() const {
    std::set<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir_)) {
      names.insert(entry.path().filename().string());
    }
    return names;
  }

  std::string FileContents() const {
    std::ifstream file(path_);
    return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
  }

  // The single text value `sql` returns on the database at path_.
  std::string QueryText(const char* sql) const {
    StatusOr<Connection> db = OpenConnection(path_, SQLITE_OPEN_READWRITE, 1000);
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    if (!db.ok()) return "";
    StatusOr<Statement> statement = Prepare(db->get(), sql);
    EXPECT_TRUE(statement.ok()) << statement.status().ToString();
    if (!statement.ok() || sqlite3_step(statement->get()) != SQLITE_ROW) return "";
    return reinterpret_cast<const char*>(sqlite3_column_text(statement->get(), 0));
  }

  static Status CreateTableWith(sqlite3* db, const std::string& marker) {
    return Execute(db, ("BEGIN; CREATE TABLE t (marker TEXT); INSERT INTO t VALUES ('" + marker +
                        "'); COMMIT;")
                           .c_str());
  }

  fs::path dir_;
  std::string path_;
};

TEST_F(NewDatabaseTest, CreatesOneCompleteWalDatabaseAndNothingElse) {
  ASSERT_TRUE(CreateDatabaseIfMissing(path_, [](sqlite3* db) {
                return CreateTableWith(db, "built");
              }).ok());
  EXPECT_EQ(FilesInDirectory(), std::set<std::string>{"footfall.db"});
  EXPECT_EQ(QueryText("PRAGMA journal_mode"), "wal");  // persistent in the file, not set here
  EXPECT_EQ(QueryText("SELECT marker FROM t"), "built");
  EXPECT_EQ(QueryText("PRAGMA integrity_check"), "ok");
}

TEST_F(NewDatabaseTest, LeavesAnExistingFileAlone) {
  std::ofstream(path_) << "not a database";
  bool built = false;
  ASSERT_TRUE(CreateDatabaseIfMissing(path_, [&](sqlite3*) {
                built = true;
                return OkStatus();
              }).ok());
  EXPECT_FALSE(built);
  EXPECT_EQ(FileContents(), "not a database");
}

TEST_F(NewDatabaseTest, AFailedBuildLeavesNothing) {
  const Status created = CreateDatabaseIfMissing(path_, [](sqlite3* db) -> Status {
    RETURN_IF_ERROR(Execute(db, "CREATE TABLE t (x)"));
    return InternalError("schema broke");
  });
  EXPECT_EQ(created.code(), StatusCode::kInternal);
  EXPECT_NE(created.message().find(path_), std::string::npos) << created.message();
  EXPECT_NE(created.message().find("schema broke"), std::string::npos) << created.message();
  EXPECT_TRUE(FilesInDirectory().empty());
}

TEST_F(NewDatabaseTest, AMissingDirectoryIsUnavailable) {
  const std::string nowhere = (dir_ / "missing" / "footfall.db").string();
  const Status created = CreateDatabaseIfMissing(nowhere, [](sqlite3*) { return OkStatus(); });
  EXPECT_EQ(created.code(), StatusCode::kUnavailable) << created.ToString();
  EXPECT_TRUE(FilesInDirectory().empty());
}

TEST_F(NewDatabaseTest, NeverReplacesAFileCreatedWhileBuilding) {
  // Another process creates the database (and may already use it) while this one builds.
  ASSERT_TRUE(CreateDatabaseIfMissing(path_, [&](sqlite3* db) {
                std::ofstream(path_) << "theirs";
                return CreateTableWith(db, "ours");
              }).ok());
  EXPECT_EQ(FileContents(), "theirs");
  EXPECT_EQ(FilesInDirectory(), std::set<std::string>{"footfall.db"});
}

TEST_F(NewDatabaseTest, OfTwoConcurrentCreatorsOneWinsWhole) {
  // Both get past "nothing exists yet" before either renames: the rename must not replace.
  std::barrier both_building(2);
  auto create = [&](const std::string& marker) {
    return CreateDatabaseIfMissing(path_, [&](sqlite3* db) {
      both_building.arrive_and_wait();
      return CreateTableWith(db, marker);
    });
  };
  Status first, second;
  std::thread other([&] { second = create("second"); });
  first = create("first");
  other.join();
  EXPECT_TRUE(first.ok()) << first.ToString();
  EXPECT_TRUE(second.ok()) << second.ToString();
  EXPECT_EQ(FilesInDirectory(), std::set<std::string>{"footfall.db"});
  const std::string winner = QueryText("SELECT group_concat(marker) FROM t");
  EXPECT_TRUE(winner == "first" || winner == "second") << winner;
  EXPECT_EQ(QueryText("PRAGMA integrity_check"), "ok");
}

}  // namespace
}  // namespace footfall::store::sqlite
