// SqliteStore: opening, closing and the write path (visits in group-committed batches, salts,
// drops, pruning) on the writer thread. The read path is in sqlite_store_reads.cc, the schema and
// its migrations in sqlite_schema.cc.
#include "store/sqlite/sqlite_store.h"

#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <algorithm>
#include <filesystem>
#include <system_error>
#include <map>
#include <tuple>
#include <vector>

#include "store/props_text.h"
#include "store/sqlite/new_database.h"
#include "store/sqlite/sqlite_schema.h"
#include "store/stats_rollup.h"

namespace footfall::store::sqlite {
namespace {

// Runs `statement` (already bound) to completion, resetting it afterwards.
Status StepToDone(sqlite3* db, sqlite3_stmt* statement, const char* what) {
  const int rc = sqlite3_step(statement);
  sqlite3_reset(statement);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) return SqliteError(db, rc, what);
  return OkStatus();
}

// Deletes the salts of days before `first_kept_day` and the seen marks made with them, inside
// the caller's transaction; returns how many salts there were.
StatusOr<int64_t> DeleteOldSalts(sqlite3* db, int64_t first_kept_day) {
  ASSIGN_OR_RETURN(Statement erase, Prepare(db, "DELETE FROM daily_salts WHERE day < ?"));
  sqlite3_bind_int64(erase.get(), 1, first_kept_day);
  RETURN_IF_ERROR(StepToDone(db, erase.get(), "deleting old salts"));
  const int64_t deleted = sqlite3_changes(db);
  ASSIGN_OR_RETURN(Statement forget, Prepare(db, "DELETE FROM seen_visitors WHERE day < ?"));
  sqlite3_bind_int64(forget.get(), 1, first_kept_day);
  RETURN_IF_ERROR(StepToDone(db, forget.get(), "forgetting old visitor hashes"));
  return deleted;
}

StatusOr<Salt> GetOrCreateSalt(sqlite3* db, int64_t day, const Salt& candidate) {
  RETURN_IF_ERROR(Execute(db, "BEGIN IMMEDIATE"));
  auto work = [&]() -> StatusOr<Salt> {
    RETURN_IF_ERROR(DeleteOldSalts(db, day - 1).status());
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

// Deletes old salts in a transaction, then copies the WAL into the database and truncates it:
// the deleted rows were zeroed in their pages (secure_delete), and the WAL's older frames, which
// still hold the salts page as it was, go with the truncation.
StatusOr<int64_t> DeleteSaltsAndTruncateWal(sqlite3* db, int64_t first_kept_day) {
  RETURN_IF_ERROR(Execute(db, "BEGIN IMMEDIATE"));
  StatusOr<int64_t> deleted = DeleteOldSalts(db, first_kept_day);
  if (!deleted.ok()) {
    Execute(db, "ROLLBACK").IgnoreError();
    return deleted;
  }
  RETURN_IF_ERROR(Execute(db, "COMMIT"));
  const int rc = sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr,
                                           nullptr);
  if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
    return UnavailableError("a reader kept the WAL from being truncated after deleting old salts");
  }
  if (rc != SQLITE_OK) return SqliteError(db, rc, "truncating the WAL");
  return deleted;
}

Status ConfigureConnection(sqlite3* db) {
  // WAL lets readers run beside the writer; FULL makes every COMMIT wait for fsync of the WAL, so
  // an acknowledged visit survives power loss, not only a process crash. (The writer's gathered
  // WAL writes rely on FULL too: see wal_write_gathering_vfs.h.)
  RETURN_IF_ERROR(Execute(db, "PRAGMA journal_mode = WAL"));
  RETURN_IF_ERROR(Execute(db, "PRAGMA synchronous = FULL"));
  // Deleted content (old salts above all) is overwritten with zeros, not left in free space.
  // Debian builds SQLite with it on by default; set it whatever the build, and check.
  RETURN_IF_ERROR(Execute(db, "PRAGMA secure_delete = ON"));
  ASSIGN_OR_RETURN(Statement check, Prepare(db, "PRAGMA secure_delete"));
  if (sqlite3_step(check.get()) != SQLITE_ROW || sqlite3_column_int(check.get(), 0) != 1) {
    return FailedPreconditionError("this SQLite cannot turn secure_delete on");
  }
  return OkStatus();
}

// SQLite says "unable to open database file" (and an unrelated errno) when it cannot create the
// -wal and -shm files beside the database: say what is wrong with the directory, if anything.
Status ExplainOpenFailure(const std::string& path, Status status) {
  if (status.ok()) return status;
  std::filesystem::path directory = std::filesystem::path(path).parent_path();
  if (directory.empty()) directory = ".";
  struct statvfs fs {};
  std::string why;
  if (statvfs(directory.c_str(), &fs) == 0 && (fs.f_flag & ST_RDONLY) != 0) {
    why = "the directory " + directory.string() + " is on a read-only file system";
  } else if (access(directory.c_str(), W_OK | X_OK) != 0) {
    why = "the directory " + directory.string() + " is not writable by this user (" +
          std::strerror(errno) + ")";
  } else {
    return status;
  }
  // The errno SQLite kept is from another call (e.g. ENOENT of a -wal it looked for): drop it.
  std::string message = status.message();
  if (const size_t os_error = message.rfind(" ("); os_error != std::string::npos &&
                                                  message.ends_with(")")) {
    message.erase(os_error);
  }
  return Status(status.code(), message + ": " + why +
                                   "; SQLite's WAL mode creates the -wal and -shm files beside "
                                   "the database, so it must be writable");
}

}  // namespace

std::string SqliteStore::LibraryVersion() { return sqlite3_libversion(); }

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
  RETURN_IF_ERROR(ExplainOpenFailure(
      options_.path, CreateDatabaseIfMissing(options_.path, MigrateToCurrentSchema)));
  StatusOr<Connection> writer_db =
      OpenConnection(options_.path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                     options_.busy_timeout_ms, WalWrites::kGatheredPerCommit);
  if (!writer_db.ok()) return ExplainOpenFailure(options_.path, writer_db.status());
  writer_db_ = *std::move(writer_db);
  sqlite3* db = writer_db_.get();
  RETURN_IF_ERROR(ExplainOpenFailure(options_.path, ConfigureConnection(db)));
  RETURN_IF_ERROR(UpgradeSchemaIfOlder(db, options_.path));

  ASSIGN_OR_RETURN(insert_visit_,
                   Prepare(db,
                           "INSERT INTO visits (visit_id, timestamp, visitor, user_agent, path, "
                           "referrer, site, expiration_time, screen, source, event, props) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  ASSIGN_OR_RETURN(add_to_total_,
                   Prepare(db,
                           "UPDATE counters SET count = count + ? WHERE name = 'total' "
                           "RETURNING count"));
  ASSIGN_OR_RETURN(mark_seen_, Prepare(db,
                                       "INSERT OR IGNORE INTO seen_visitors (day, site, path, "
                                       "visitor) VALUES (?, ?, ?, ?)"));
  ASSIGN_OR_RETURN(add_day_, Prepare(db,
                                     "INSERT INTO daily_path_stats (site, day, path, views, "
                                     "new_visitors) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE "
                                     "SET views = views + excluded.views, new_visitors = "
                                     "new_visitors + excluded.new_visitors"));
  ASSIGN_OR_RETURN(add_hour_, Prepare(db,
                                      "INSERT INTO hourly_stats (site, hour, path, views, "
                                      "new_visitors) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE "
                                      "SET views = views + excluded.views, new_visitors = "
                                      "new_visitors + excluded.new_visitors"));
  ASSIGN_OR_RETURN(add_page_views_, Prepare(db,
                                            "INSERT INTO page_views (site, path, views) VALUES "
                                            "(?, ?, ?) ON CONFLICT DO UPDATE SET views = views + "
                                            "excluded.views"));
  ASSIGN_OR_RETURN(add_dimension_, Prepare(db,
                                           "INSERT INTO daily_dimensions (site, day, kind, value, "
                                           "views) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE "
                                           "SET views = views + excluded.views"));
  ASSIGN_OR_RETURN(add_drop_, Prepare(db,
                                      "INSERT INTO daily_drops (site, day, reason, count) VALUES "
                                      "(?, ?, ?, ?) ON CONFLICT DO UPDATE SET count = count + "
                                      "excluded.count"));
  ASSIGN_OR_RETURN(begin_, Prepare(db, "BEGIN IMMEDIATE"));
  ASSIGN_OR_RETURN(commit_, Prepare(db, "COMMIT"));
  ASSIGN_OR_RETURN(rollback_, Prepare(db, "ROLLBACK"));

  ASSIGN_OR_RETURN(Connection reader_db, OpenConnection(options_.path, SQLITE_OPEN_READWRITE,
                                                        options_.busy_timeout_ms));
  reader_db_ = std::move(reader_db);
  reader_ = std::make_unique<WorkerThread>("ff-reader");
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

void SqliteStore::GetOrCreateDailySalt(int64_t day, Salt candidate, Deadline,
                                       Callback<Salt> done) {
  writer_->Run([this, day, candidate, done = std::move(done)] {
    done(GetOrCreateSalt(writer_db_.get(), day, candidate));
  });
}

void SqliteStore::DeleteSaltsBefore(int64_t first_kept_day, Deadline, Callback<int64_t> done) {
  writer_->Run([this, first_kept_day, done = std::move(done)] {
    done(DeleteSaltsAndTruncateWal(writer_db_.get(), first_kept_day));
  });
}

void SqliteStore::RecordDrop(std::string site, int64_t time_ms, std::string reason, Deadline,
                             StatusCallback done) {
  // Drops are coalesced in memory and written by one writer job: a flood of bots costs one
  // transaction per writer turn, not one fsync each. (A crash may lose drop counts not yet
  // written; no client was promised them.)
  if (pending_drops_.Add(std::move(site), time_ms, std::move(reason))) {
    writer_->Run([this] { FlushDrops(); });
  }
  done(OkStatus());
}

void SqliteStore::FlushDrops() {
  const std::map<PendingDrops::Key, int64_t> drops = pending_drops_.Take();
  sqlite3* db = writer_db_.get();
  if (!StepToDone(db, begin_.get(), "beginning a transaction").ok()) return;
  Status status;
  for (const auto& [key, count] : drops) {
    sqlite3_stmt* add = add_drop_.get();
    status = BindText(db, add, 1, std::get<0>(key));
    sqlite3_bind_int64(add, 2, std::get<1>(key));
    if (status.ok()) status = BindText(db, add, 3, std::get<2>(key));
    sqlite3_bind_int64(add, 4, count);
    if (status.ok()) status = StepToDone(db, add, "counting drops");
    if (!status.ok()) break;
  }
  if (status.ok()) status = StepToDone(db, commit_.get(), "committing drops");
  if (!status.ok() && !sqlite3_get_autocommit(db)) {
    StepToDone(db, rollback_.get(), "rolling back").IgnoreError();
  }
}

void SqliteStore::PruneExpired(int64_t now_seconds, Deadline, Callback<int64_t> done) {
  writer_->Run([this, now_seconds, done = std::move(done)] {
    // In slices between visit batches, so pruning never stalls recording for long.
    sqlite3* db = writer_db_.get();
    int64_t deleted = 0;
    while (true) {
      StatusOr<Statement> prune =
          Prepare(db,
                  "DELETE FROM visits WHERE visit_id IN (SELECT visit_id FROM visits "
                  "WHERE expiration_time < ? LIMIT 10000)");
      if (!prune.ok()) return done(prune.status());
      sqlite3_bind_int64(prune->get(), 1, now_seconds);
      if (Status status = StepToDone(db, prune->get(), "pruning expired visits"); !status.ok()) {
        return done(status);
      }
      const int64_t slice = sqlite3_changes(db);
      deleted += slice;
      if (slice < 10000) return done(deleted);
    }
  });
}

void SqliteStore::CommitBatch(std::vector<PendingVisit>& batch) {
  StatusOr<BatchOutcome> outcome = TryCommit(batch);
  if (!outcome.ok()) return FailBatch(batch, outcome.status());
  if (outcome->rejected.empty()) return CompleteCommittedBatch(batch, outcome->total);
  // The visits stored are numbered in batch order, as CompleteCommittedBatch numbers a full batch.
  std::vector<StatusOr<RecordedVisit>> results;
  results.reserve(batch.size());
  int64_t total = outcome->total - outcome->counted;
  for (size_t i = 0; i < batch.size(); ++i) {
    Status& rejected = outcome->rejected[i];
    if (rejected.ok()) {
      const bool counted = batch[i].visit.is_page_view();
      if (counted) ++total;
      results.push_back(RecordedVisit{counted ? total : 0, outcome->stored});
    } else {
      results.push_back(std::move(rejected));
    }
  }
  CompleteBatch(batch, [&results](size_t index) { return std::move(results[index]); });
}

Status SqliteStore::AddToAggregates(const std::vector<const Visit*>& visits) {
  sqlite3* db = writer_db_.get();
  Status seen_error;
  const Rollup rollup = RollUp(visits, [&](int64_t day, const std::string& site,
                                           const std::string& path, const std::string& visitor) {
    sqlite3_stmt* mark = mark_seen_.get();
    sqlite3_bind_int64(mark, 1, day);
    Status bound = BindText(db, mark, 2, site);
    if (bound.ok()) bound = BindText(db, mark, 3, path);
    if (bound.ok()) bound = BindText(db, mark, 4, visitor);
    if (bound.ok()) bound = StepToDone(db, mark, "marking a visitor seen");
    if (!bound.ok()) {
      if (seen_error.ok()) seen_error = bound;
      return false;
    }
    return sqlite3_changes(db) == 1;
  });
  RETURN_IF_ERROR(seen_error);
  // Adds `delta` to the (site, hour or day, path) row of `add` (hourly_stats or daily_path_stats).
  auto add_path_delta = [db](sqlite3_stmt* add, const HourKey& key, const HourDelta& delta,
                             const char* what) -> Status {
    RETURN_IF_ERROR(BindText(db, add, 1, std::get<0>(key)));
    sqlite3_bind_int64(add, 2, std::get<1>(key));
    RETURN_IF_ERROR(BindText(db, add, 3, std::get<2>(key)));
    sqlite3_bind_int64(add, 4, delta.views);
    sqlite3_bind_int64(add, 5, delta.new_visitors);
    return StepToDone(db, add, what);
  };
  for (const auto& [key, delta] : rollup.hours) {
    RETURN_IF_ERROR(add_path_delta(add_hour_.get(), key, delta, "adding to hourly stats"));
  }
  std::map<HourKey, HourDelta> days;  // the same key shape, with the day in place of the hour
  for (const auto& [key, delta] : rollup.hours) {
    HourDelta& day = days[{std::get<0>(key), DayOfHour(std::get<1>(key)), std::get<2>(key)}];
    day.views += delta.views;
    day.new_visitors += delta.new_visitors;
  }
  for (const auto& [key, delta] : days) {
    RETURN_IF_ERROR(add_path_delta(add_day_.get(), key, delta, "adding to daily path stats"));
  }
  for (const auto& [key, views] : rollup.page_views) {
    sqlite3_stmt* add = add_page_views_.get();
    RETURN_IF_ERROR(BindText(db, add, 1, key.first));
    RETURN_IF_ERROR(BindText(db, add, 2, key.second));
    sqlite3_bind_int64(add, 3, views);
    RETURN_IF_ERROR(StepToDone(db, add, "adding to page views"));
  }
  for (const auto& [key, views] : rollup.dimensions) {
    sqlite3_stmt* add = add_dimension_.get();
    RETURN_IF_ERROR(BindText(db, add, 1, std::get<0>(key)));
    sqlite3_bind_int64(add, 2, std::get<1>(key));
    RETURN_IF_ERROR(BindText(db, add, 3, std::get<2>(key)));
    RETURN_IF_ERROR(BindText(db, add, 4, std::get<3>(key)));
    sqlite3_bind_int64(add, 5, views);
    RETURN_IF_ERROR(StepToDone(db, add, "adding to daily dimensions"));
  }
  return OkStatus();
}

StatusOr<SqliteStore::BatchOutcome> SqliteStore::TryCommit(
    const std::vector<PendingVisit>& batch) {
  sqlite3* db = writer_db_.get();
  RETURN_IF_ERROR(StepToDone(db, begin_.get(), "beginning a transaction"));
  BatchOutcome outcome;
  auto work = [&]() -> Status {
    std::vector<const Visit*> stored;
    stored.reserve(batch.size());
    sqlite3_stmt* insert = insert_visit_.get();
    for (size_t i = 0; i < batch.size(); ++i) {
      const Visit& v = batch[i].visit;
      RETURN_IF_ERROR(BindText(db, insert, 1, v.visit_id));
      RETURN_IF_ERROR(BindText(db, insert, 2, v.timestamp));
      RETURN_IF_ERROR(BindText(db, insert, 3, v.visitor));
      RETURN_IF_ERROR(BindText(db, insert, 4, v.user_agent));
      RETURN_IF_ERROR(BindText(db, insert, 5, v.path));
      RETURN_IF_ERROR(BindText(db, insert, 6, v.referrer));
      RETURN_IF_ERROR(BindText(db, insert, 7, v.site));
      sqlite3_bind_int64(insert, 8, v.expiration_time);
      RETURN_IF_ERROR(BindText(db, insert, 9, v.screen));
      RETURN_IF_ERROR(BindText(db, insert, 10, v.source));
      RETURN_IF_ERROR(BindText(db, insert, 11, v.event));
      const std::string props = EncodeProps(v.props);  // bound without a copy: outlives the step
      RETURN_IF_ERROR(BindText(db, insert, 12, props));
      Status inserted = StepToDone(db, insert, "inserting a visit");
      if (inserted.ok()) {
        stored.push_back(&v);
        continue;
      }
      // A constraint failure (a duplicate visit_id) undoes this one INSERT and leaves the
      // transaction open (SQLite's default ABORT conflict resolution), so the visit fails alone and
      // the others still commit together: no savepoint is needed while a visit is one statement
      // (aggregates and the counter are written for the stored visits only, below). Any other
      // error fails the whole batch.
      if (inserted.code() != StatusCode::kAlreadyExists) return inserted;
      if (sqlite3_get_autocommit(db)) {  // not SQLite's documented behaviour: nothing is stored
        return InternalError("a rejected visit ended its batch's transaction: " +
                             inserted.message());
      }
      if (outcome.rejected.empty()) outcome.rejected.resize(batch.size());
      outcome.rejected[i] = std::move(inserted);
    }
    outcome.stored = static_cast<int>(stored.size());
    outcome.counted = static_cast<int>(
        std::count_if(stored.begin(), stored.end(), [](const Visit* v) { return v->is_page_view(); }));
    if (stored.empty()) return OkStatus();  // nothing to commit: rolled back below, no fsync
    RETURN_IF_ERROR(AddToAggregates(stored));
    sqlite3_stmt* add = add_to_total_.get();
    sqlite3_bind_int64(add, 1, outcome.counted);
    const int rc = sqlite3_step(add);
    if (rc != SQLITE_ROW) {
      sqlite3_reset(add);
      return SqliteError(db, rc, "adding to the total");
    }
    outcome.total = sqlite3_column_int64(add, 0);
    sqlite3_reset(add);
    return StepToDone(db, commit_.get(), "committing");
  };
  const Status done = work();
  if ((!done.ok() || outcome.stored == 0) && !sqlite3_get_autocommit(db)) {
    StepToDone(db, rollback_.get(), "rolling back").IgnoreError();
  }
  if (!done.ok()) return done;
  return outcome;
}

}  // namespace footfall::store::sqlite
