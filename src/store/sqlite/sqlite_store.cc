#include "store/sqlite/sqlite_store.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <vector>

namespace footfall::store::sqlite {
namespace {

constexpr int kSchemaVersion = 1;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS visits (
  visit_id        TEXT PRIMARY KEY,
  timestamp       TEXT NOT NULL,
  visitor         TEXT NOT NULL,
  user_agent      TEXT NOT NULL,
  path            TEXT NOT NULL,
  referrer        TEXT NOT NULL,
  site            TEXT NOT NULL,
  expiration_time INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS counters (
  name  TEXT PRIMARY KEY,
  count INTEGER NOT NULL
) WITHOUT ROWID;
INSERT OR IGNORE INTO counters (name, count) VALUES ('total', 0);
CREATE TABLE IF NOT EXISTS daily_salts (
  day  INTEGER PRIMARY KEY,
  salt BLOB NOT NULL
);
PRAGMA user_version = 1;
)sql";

Status BindText(sqlite3* db, sqlite3_stmt* statement, int index, const std::string& text) {
  const int rc = sqlite3_bind_text(statement, index, text.data(), static_cast<int>(text.size()),
                                   SQLITE_STATIC);
  if (rc != SQLITE_OK) return SqliteError(db, rc, "binding a parameter");
  return OkStatus();
}

// Runs `statement` (already bound) to completion, resetting it afterwards.
Status StepToDone(sqlite3* db, sqlite3_stmt* statement, const char* what) {
  const int rc = sqlite3_step(statement);
  sqlite3_reset(statement);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) return SqliteError(db, rc, what);
  return OkStatus();
}

StatusOr<int64_t> QueryTotal(sqlite3* db) {
  ASSIGN_OR_RETURN(Statement statement,
                   Prepare(db, "SELECT count FROM counters WHERE name = 'total'"));
  const int rc = sqlite3_step(statement.get());
  if (rc == SQLITE_ROW) return static_cast<int64_t>(sqlite3_column_int64(statement.get(), 0));
  if (rc == SQLITE_DONE) return int64_t{0};
  return SqliteError(db, rc, "reading the total");
}

StatusOr<Salt> GetOrCreateSalt(sqlite3* db, int64_t day, const Salt& candidate) {
  RETURN_IF_ERROR(Execute(db, "BEGIN IMMEDIATE"));
  auto work = [&]() -> StatusOr<Salt> {
    ASSIGN_OR_RETURN(Statement erase, Prepare(db, "DELETE FROM daily_salts WHERE day < ?"));
    sqlite3_bind_int64(erase.get(), 1, day - 1);
    RETURN_IF_ERROR(StepToDone(db, erase.get(), "deleting old salts"));
    ASSIGN_OR_RETURN(Statement insert,
                     Prepare(db, "INSERT OR IGNORE INTO daily_salts (day, salt) VALUES (?, ?)"));
    sqlite3_bind_int64(insert.get(), 1, day);
    sqlite3_bind_blob(insert.get(), 2, candidate.data(), static_cast<int>(candidate.size()),
                      SQLITE_STATIC);
    RETURN_IF_ERROR(StepToDone(db, insert.get(), "storing a salt"));
    ASSIGN_OR_RETURN(Statement select, Prepare(db, "SELECT salt FROM daily_salts WHERE day = ?"));
    sqlite3_bind_int64(select.get(), 1, day);
    const int rc = sqlite3_step(select.get());
    if (rc != SQLITE_ROW) return SqliteError(db, rc, "reading a salt");
    Salt salt;
    if (sqlite3_column_bytes(select.get(), 0) != static_cast<int>(salt.size())) {
      return InternalError("stored salt has the wrong size");
    }
    std::memcpy(salt.data(), sqlite3_column_blob(select.get(), 0), salt.size());
    return salt;
  };
  StatusOr<Salt> salt = work();
  if (!salt.ok()) {
    Execute(db, "ROLLBACK").IgnoreError();
    return salt;
  }
  RETURN_IF_ERROR(Execute(db, "COMMIT"));
  return salt;
}

Status ConfigureConnection(sqlite3* db) {
  // WAL lets readers run beside the writer; FULL makes every COMMIT wait for fsync of the WAL, so
  // an acknowledged visit survives power loss, not only a process crash.
  RETURN_IF_ERROR(Execute(db, "PRAGMA journal_mode = WAL"));
  return Execute(db, "PRAGMA synchronous = FULL");
}

}  // namespace

StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(SqliteOptions options) {
  if (options.path.empty()) return InvalidArgumentError("sqlite store needs a file path");
  if (options.max_batch == 0) return InvalidArgumentError("max_batch must be at least 1");
  std::unique_ptr<SqliteStore> store(new SqliteStore(std::move(options)));
  RETURN_IF_ERROR(store->Start());
  return store;
}

SqliteStore::SqliteStore(SqliteOptions options) : options_(std::move(options)) {}

Status SqliteStore::Start() {
  const std::filesystem::path parent = std::filesystem::path(options_.path).parent_path();
  if (!parent.empty()) {
    std::error_code error;
    std::filesystem::create_directories(parent, error);
    if (error) {
      return UnavailableError("cannot create directory " + parent.string() + ": " +
                              error.message());
    }
  }
  ASSIGN_OR_RETURN(writer_db_,
                   OpenConnection(options_.path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                  options_.busy_timeout_ms));
  sqlite3* db = writer_db_.get();
  RETURN_IF_ERROR(ConfigureConnection(db));
  {
    ASSIGN_OR_RETURN(Statement version, Prepare(db, "PRAGMA user_version"));
    if (sqlite3_step(version.get()) != SQLITE_ROW) {
      return FailedPreconditionError(options_.path + " is not a SQLite database");
    }
    const int found = sqlite3_column_int(version.get(), 0);
    if (found > kSchemaVersion) {
      return FailedPreconditionError(options_.path + " has schema version " +
                                     std::to_string(found) + "; this footfall knows up to " +
                                     std::to_string(kSchemaVersion));
    }
  }
  RETURN_IF_ERROR(Execute(db, "BEGIN IMMEDIATE"));
  if (Status status = Execute(db, kSchema); !status.ok()) {
    Execute(db, "ROLLBACK").IgnoreError();
    return status;
  }
  RETURN_IF_ERROR(Execute(db, "COMMIT"));

  ASSIGN_OR_RETURN(insert_visit_,
                   Prepare(db,
                           "INSERT INTO visits (visit_id, timestamp, visitor, user_agent, path, "
                           "referrer, site, expiration_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
  ASSIGN_OR_RETURN(add_to_total_,
                   Prepare(db,
                           "UPDATE counters SET count = count + ? WHERE name = 'total' "
                           "RETURNING count"));
  ASSIGN_OR_RETURN(begin_, Prepare(db, "BEGIN IMMEDIATE"));
  ASSIGN_OR_RETURN(commit_, Prepare(db, "COMMIT"));
  ASSIGN_OR_RETURN(rollback_, Prepare(db, "ROLLBACK"));

  ASSIGN_OR_RETURN(Connection reader_db, OpenConnection(options_.path, SQLITE_OPEN_READWRITE,
                                                        options_.busy_timeout_ms));
  reader_db_ = std::move(reader_db);
  reader_ = std::make_unique<WorkerThread>();
  writer_ = std::make_unique<GroupCommitter>(
      options_.max_batch, options_.max_queued_visits,
      [this](std::vector<PendingVisit>& batch) { CommitBatch(batch); });
  return OkStatus();
}

SqliteStore::~SqliteStore() {
  writer_.reset();  // commits whatever is still queued
  reader_.reset();
}

void SqliteStore::RecordVisit(Visit visit, Deadline, Callback<RecordedVisit> done) {
  writer_->Enqueue(std::move(visit), std::move(done));
}

void SqliteStore::ReadTotal(Deadline, Callback<int64_t> done) {
  reader_->Post([this, done = std::move(done)] { done(QueryTotal(reader_db_.get())); });
}

void SqliteStore::GetOrCreateDailySalt(int64_t day, Salt candidate, Deadline,
                                       Callback<Salt> done) {
  writer_->Run([this, day, candidate, done = std::move(done)] {
    done(GetOrCreateSalt(writer_db_.get(), day, candidate));
  });
}

void SqliteStore::CheckReady(Deadline, StatusCallback done) {
  reader_->Post([this, done = std::move(done)] { done(QueryTotal(reader_db_.get()).status()); });
}

void SqliteStore::CommitBatch(std::vector<PendingVisit>& batch) {
  StatusOr<int64_t> total = TryCommit(batch);
  if (total.ok()) {
    CompleteCommittedBatch(batch, *total);
    return;
  }
  if (batch.size() > 1 && total.status().code() == StatusCode::kAlreadyExists) {
    // One bad visit must not fail the others: retry each alone.
    for (PendingVisit& pending : batch) {
      std::vector<PendingVisit> single;
      single.push_back(std::move(pending));
      CommitBatch(single);
    }
    return;
  }
  for (PendingVisit& pending : batch) pending.done(total.status());
}

StatusOr<int64_t> SqliteStore::TryCommit(std::vector<PendingVisit>& batch) {
  sqlite3* db = writer_db_.get();
  RETURN_IF_ERROR(StepToDone(db, begin_.get(), "beginning a transaction"));
  auto work = [&]() -> StatusOr<int64_t> {
    sqlite3_stmt* insert = insert_visit_.get();
    for (const PendingVisit& pending : batch) {
      const Visit& v = pending.visit;
      RETURN_IF_ERROR(BindText(db, insert, 1, v.visit_id));
      RETURN_IF_ERROR(BindText(db, insert, 2, v.timestamp));
      RETURN_IF_ERROR(BindText(db, insert, 3, v.visitor));
      RETURN_IF_ERROR(BindText(db, insert, 4, v.user_agent));
      RETURN_IF_ERROR(BindText(db, insert, 5, v.path));
      RETURN_IF_ERROR(BindText(db, insert, 6, v.referrer));
      RETURN_IF_ERROR(BindText(db, insert, 7, v.site));
      sqlite3_bind_int64(insert, 8, v.expiration_time);
      RETURN_IF_ERROR(StepToDone(db, insert, "inserting a visit"));
    }
    sqlite3_stmt* add = add_to_total_.get();
    sqlite3_bind_int64(add, 1, static_cast<int64_t>(batch.size()));
    const int rc = sqlite3_step(add);
    if (rc != SQLITE_ROW) {
      sqlite3_reset(add);
      return SqliteError(db, rc, "adding to the total");
    }
    const int64_t total = sqlite3_column_int64(add, 0);
    sqlite3_reset(add);
    RETURN_IF_ERROR(StepToDone(db, commit_.get(), "committing"));
    return total;
  };
  StatusOr<int64_t> total = work();
  if (!total.ok() && !sqlite3_get_autocommit(db)) {
    StepToDone(db, rollback_.get(), "rolling back").IgnoreError();
  }
  return total;
}

}  // namespace footfall::store::sqlite
