#include "store/sqlite/sqlite_store.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <map>
#include <tuple>
#include <vector>

#include "base/utc_time.h"
#include "store/sqlite/new_database.h"
#include "store/stats_rollup.h"

namespace footfall::store::sqlite {
namespace {

constexpr int kSchemaVersion = 3;

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
-- Version 2: retention pruning by expiration_time, and aggregates kept at write time, in the visit's transaction. They hold no visitor
-- identifier and outlive the raw visits. path '' is the whole site.
CREATE INDEX IF NOT EXISTS visits_expiration_time ON visits (expiration_time);
CREATE TABLE IF NOT EXISTS hourly_stats (
  site         TEXT NOT NULL,
  hour         INTEGER NOT NULL,  -- Unix hours
  path         TEXT NOT NULL,
  views        INTEGER NOT NULL,
  new_visitors INTEGER NOT NULL,  -- visitors first seen that UTC day, in this hour
  PRIMARY KEY (site, hour, path)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS page_views (
  site  TEXT NOT NULL,
  path  TEXT NOT NULL,              -- '' = whole site
  views INTEGER NOT NULL,           -- ever recorded, for the public per-page counter
  PRIMARY KEY (site, path)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS daily_dimensions (
  site  TEXT NOT NULL,
  day   INTEGER NOT NULL,
  kind  TEXT NOT NULL,            -- referrer, browser, os, device
  value TEXT NOT NULL,
  views INTEGER NOT NULL,
  PRIMARY KEY (site, day, kind, value)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS daily_drops (
  site   TEXT NOT NULL,
  day    INTEGER NOT NULL,
  reason TEXT NOT NULL,
  count  INTEGER NOT NULL,
  PRIMARY KEY (site, day, reason)
) WITHOUT ROWID;
-- Which (day, site, path, visitor hash) was already counted as unique. Needed only while that
-- day's salt lives: deleted with it.
CREATE TABLE IF NOT EXISTS seen_visitors (
  day     INTEGER NOT NULL,
  site    TEXT NOT NULL,
  path    TEXT NOT NULL,
  visitor TEXT NOT NULL,
  PRIMARY KEY (day, site, path, visitor)
) WITHOUT ROWID;
-- Version 3: hourly_stats summed per day, so top pages over weeks read one row per page and
-- day instead of one per page and hour (a 30-day query reads ~24x fewer rows).
CREATE TABLE IF NOT EXISTS daily_path_stats (
  site         TEXT NOT NULL,
  day          INTEGER NOT NULL,
  path         TEXT NOT NULL,
  views        INTEGER NOT NULL,
  new_visitors INTEGER NOT NULL,
  PRIMARY KEY (site, day, path)
) WITHOUT ROWID;
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

// Creates the schema, or brings an older one to kSchemaVersion, in one transaction.
Status MigrateToCurrentSchema(sqlite3* db) {
  RETURN_IF_ERROR(Execute(db, "BEGIN IMMEDIATE"));
  auto migrate = [db]() -> Status {
    RETURN_IF_ERROR(Execute(db, kSchema));
    // Version 3: the visit's screen-size class, so that an export keeps it.
    ASSIGN_OR_RETURN(Statement has_screen,
                     Prepare(db, "SELECT 1 FROM pragma_table_info('visits') WHERE name = 'screen'"));
    if (sqlite3_step(has_screen.get()) != SQLITE_ROW) {
      RETURN_IF_ERROR(Execute(db,
                              "ALTER TABLE visits ADD COLUMN screen TEXT NOT NULL DEFAULT ''; "
                              "INSERT INTO daily_path_stats (site, day, path, views, new_visitors) "
                              "SELECT site, hour / 24, path, SUM(views), SUM(new_visitors) "
                              "FROM hourly_stats GROUP BY site, hour / 24, path"));
    }
    // Also version 3: whether the visit came with an Origin header.
    ASSIGN_OR_RETURN(Statement has_source,
                     Prepare(db, "SELECT 1 FROM pragma_table_info('visits') WHERE name = 'source'"));
    if (sqlite3_step(has_source.get()) != SQLITE_ROW) {
      RETURN_IF_ERROR(Execute(db, "ALTER TABLE visits ADD COLUMN source TEXT NOT NULL DEFAULT ''"));
    }
    return Execute(db, ("PRAGMA user_version = " + std::to_string(kSchemaVersion)).c_str());
  };
  if (Status migrated = migrate(); !migrated.ok()) {
    Execute(db, "ROLLBACK").IgnoreError();
    return migrated;
  }
  return Execute(db, "COMMIT");
}

// Reads one page of raw visits in [from_ms, to_ms) after `cursor`, in visit_id order.
StatusOr<VisitPage> ScanVisitPage(sqlite3* db, int64_t from_ms, int64_t to_ms,
                                  const std::string& cursor, int limit) {
  constexpr int64_t kLastMs = 253'402'300'799'999;  // 9999-12-31T23:59:59.999Z
  const std::string from = FormatUtcMillis(std::clamp<int64_t>(from_ms, 0, kLastMs));
  const std::string to = to_ms > kLastMs ? "~" : FormatUtcMillis(std::max<int64_t>(to_ms, 0));
  ASSIGN_OR_RETURN(Statement scan,
                   Prepare(db,
                           "SELECT visit_id, timestamp, visitor, user_agent, path, referrer, "
                           "site, expiration_time, screen, source FROM visits WHERE visit_id > ? AND "
                           "timestamp >= ? AND timestamp < ? ORDER BY visit_id LIMIT ?"));
  RETURN_IF_ERROR(BindText(db, scan.get(), 1, cursor));
  RETURN_IF_ERROR(BindText(db, scan.get(), 2, from));
  RETURN_IF_ERROR(BindText(db, scan.get(), 3, to));
  sqlite3_bind_int(scan.get(), 4, limit);
  VisitPage page;
  auto text = [&scan](int column) {
    return std::string(reinterpret_cast<const char*>(sqlite3_column_text(scan.get(), column)));
  };
  int rc;
  while ((rc = sqlite3_step(scan.get())) == SQLITE_ROW) {
    Visit visit;
    visit.visit_id = text(0);
    visit.timestamp = text(1);
    visit.visitor = text(2);
    visit.user_agent = text(3);
    visit.path = text(4);
    visit.referrer = text(5);
    visit.site = text(6);
    visit.expiration_time = sqlite3_column_int64(scan.get(), 7);
    visit.screen = text(8);
    visit.source = text(9);
    bool date_only = false;
    ASSIGN_OR_RETURN(visit.time_ms, ParseUtcTime(visit.timestamp, date_only));
    page.visits.push_back(std::move(visit));
  }
  if (rc != SQLITE_DONE) return SqliteError(db, rc, "scanning visits");
  if (page.visits.size() == static_cast<size_t>(limit)) page.next_cursor = page.visits.back().visit_id;
  return page;
}

// Answers a stats query from the aggregate tables (sums in SQL; no raw visit is read).
StatusOr<Stats> RunStatsQuery(sqlite3* db, const StatsQuery& query) {
  const int64_t first = FirstHour(query), end = EndHour(query);
  const int64_t first_day = DayOfHour(first), last_day = DayOfHour(end - 1);
  StatsRows rows;
  {
    // Hours for the chosen path ("" = whole site): series and daily uniques. Integer division
    // is exact here: hours are never negative for real visits.
    ASSIGN_OR_RETURN(Statement series,
                     Prepare(db,
                             "SELECT hour, views, new_visitors FROM hourly_stats "
                             "WHERE site = ? AND path = ? AND hour >= ? AND hour < ?"));
    RETURN_IF_ERROR(BindText(db, series.get(), 1, query.site));
    RETURN_IF_ERROR(BindText(db, series.get(), 2, query.path));
    sqlite3_bind_int64(series.get(), 3, first);
    sqlite3_bind_int64(series.get(), 4, end);
    int rc;
    while ((rc = sqlite3_step(series.get())) == SQLITE_ROW) {
      const int64_t hour = sqlite3_column_int64(series.get(), 0);
      const int64_t views = sqlite3_column_int64(series.get(), 1);
      const int64_t visitors = sqlite3_column_int64(series.get(), 2);
      const int64_t bucket = query.interval == Interval::kHour ? hour : DayOfHour(hour);
      rows.buckets[bucket].views += views;
      rows.buckets[bucket].new_visitors += visitors;
      rows.daily_new[DayOfHour(hour)] += visitors;
    }
    if (rc != SQLITE_DONE) return SqliteError(db, rc, "reading the series");
  }
  {
    // Whole days of the range from the daily rows, the hours of a partial first or last day
    // from the hourly rows.
    const int64_t whole_first = (first + 23) / 24, whole_end = std::max(whole_first, end / 24);
    ASSIGN_OR_RETURN(Statement paths,
                     Prepare(db,
                             "SELECT path, SUM(v) AS total, SUM(n) FROM ("
                             " SELECT path, views AS v, new_visitors AS n FROM daily_path_stats"
                             " WHERE site = ?1 AND day >= ?2 AND day < ?3 AND path <> ''"
                             " UNION ALL"
                             " SELECT path, views, new_visitors FROM hourly_stats"
                             " WHERE site = ?1 AND hour >= ?4 AND hour < ?5 AND path <> ''"
                             " UNION ALL"
                             " SELECT path, views, new_visitors FROM hourly_stats"
                             " WHERE site = ?1 AND hour >= ?6 AND hour < ?7 AND path <> '')"
                             " GROUP BY path ORDER BY total DESC, path LIMIT ?8"));
    RETURN_IF_ERROR(BindText(db, paths.get(), 1, query.site));
    sqlite3_bind_int64(paths.get(), 2, whole_first);
    sqlite3_bind_int64(paths.get(), 3, whole_end);
    sqlite3_bind_int64(paths.get(), 4, first);
    sqlite3_bind_int64(paths.get(), 5, std::min(end, whole_first * 24));
    sqlite3_bind_int64(paths.get(), 6, std::max(whole_end * 24, whole_first * 24));
    sqlite3_bind_int64(paths.get(), 7, end);
    sqlite3_bind_int(paths.get(), 8, query.top);
    int rc;
    while ((rc = sqlite3_step(paths.get())) == SQLITE_ROW) {
      rows.paths.push_back({reinterpret_cast<const char*>(sqlite3_column_text(paths.get(), 0)),
                            sqlite3_column_int64(paths.get(), 1),
                            sqlite3_column_int64(paths.get(), 2)});
    }
    if (rc != SQLITE_DONE) return SqliteError(db, rc, "reading top paths");
  }
  {
    ASSIGN_OR_RETURN(Statement dimensions,
                     Prepare(db,
                             "SELECT kind, value, SUM(views) FROM daily_dimensions "
                             "WHERE site = ? AND day >= ? AND day <= ? GROUP BY kind, value"));
    RETURN_IF_ERROR(BindText(db, dimensions.get(), 1, query.site));
    sqlite3_bind_int64(dimensions.get(), 2, first_day);
    sqlite3_bind_int64(dimensions.get(), 3, last_day);
    int rc;
    while ((rc = sqlite3_step(dimensions.get())) == SQLITE_ROW) {
      const std::string kind = reinterpret_cast<const char*>(sqlite3_column_text(dimensions.get(), 0));
      rows.dimensions[kind].push_back(
          {reinterpret_cast<const char*>(sqlite3_column_text(dimensions.get(), 1)),
           sqlite3_column_int64(dimensions.get(), 2), 0});
    }
    if (rc != SQLITE_DONE) return SqliteError(db, rc, "reading dimensions");
  }
  {
    ASSIGN_OR_RETURN(Statement drops,
                     Prepare(db,
                             "SELECT reason, SUM(count) FROM daily_drops "
                             "WHERE site = ? AND day >= ? AND day <= ? GROUP BY reason"));
    RETURN_IF_ERROR(BindText(db, drops.get(), 1, query.site));
    sqlite3_bind_int64(drops.get(), 2, first_day);
    sqlite3_bind_int64(drops.get(), 3, last_day);
    int rc;
    while ((rc = sqlite3_step(drops.get())) == SQLITE_ROW) {
      rows.drops.push_back({reinterpret_cast<const char*>(sqlite3_column_text(drops.get(), 0)),
                            sqlite3_column_int64(drops.get(), 1), 0});
    }
    if (rc != SQLITE_DONE) return SqliteError(db, rc, "reading drops");
  }
  return BuildStats(query, std::move(rows));
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
  RETURN_IF_ERROR(CreateDatabaseIfMissing(options_.path, MigrateToCurrentSchema));
  ASSIGN_OR_RETURN(writer_db_,
                   OpenConnection(options_.path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                  options_.busy_timeout_ms, WalWrites::kGatheredPerCommit));
  sqlite3* db = writer_db_.get();
  RETURN_IF_ERROR(ConfigureConnection(db));
  int found = 0;
  {
    ASSIGN_OR_RETURN(Statement version, Prepare(db, "PRAGMA user_version"));
    if (sqlite3_step(version.get()) != SQLITE_ROW) {
      return FailedPreconditionError(options_.path + " is not a SQLite database");
    }
    found = sqlite3_column_int(version.get(), 0);
    if (found > kSchemaVersion) {
      return FailedPreconditionError(options_.path + " has schema version " +
                                     std::to_string(found) + "; this footfall knows up to " +
                                     std::to_string(kSchemaVersion));
    }
  }
  // An up-to-date database is only read: a restart writes (and fsyncs) nothing before serving, and
  // works on a full disk.
  if (found < kSchemaVersion) RETURN_IF_ERROR(MigrateToCurrentSchema(db));

  ASSIGN_OR_RETURN(insert_visit_,
                   Prepare(db,
                           "INSERT INTO visits (visit_id, timestamp, visitor, user_agent, path, "
                           "referrer, site, expiration_time, screen, source) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
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

void SqliteStore::ReadTotal(Deadline, Callback<int64_t> done) {
  reader_->Post([this, done = std::move(done)] { done(QueryTotal(reader_db_.get())); });
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

void SqliteStore::QueryStats(StatsQuery query, Deadline, Callback<Stats> done) {
  if (Status valid = ValidateStatsQuery(query); !valid.ok()) return done(valid);
  reader_->Post([this, query = std::move(query), done = std::move(done)] {
    done(RunStatsQuery(reader_db_.get(), query));
  });
}

void SqliteStore::ReadPageViews(std::string site, std::string path, Deadline,
                                Callback<int64_t> done) {
  reader_->Post([this, site = std::move(site), path = std::move(path), done = std::move(done)] {
    sqlite3* db = reader_db_.get();
    StatusOr<Statement> read =
        Prepare(db, "SELECT views FROM page_views WHERE site = ? AND path = ?");
    if (!read.ok()) return done(read.status());
    if (Status s = BindText(db, read->get(), 1, site); !s.ok()) return done(s);
    if (Status s = BindText(db, read->get(), 2, path); !s.ok()) return done(s);
    const int rc = sqlite3_step(read->get());
    if (rc == SQLITE_ROW) return done(static_cast<int64_t>(sqlite3_column_int64(read->get(), 0)));
    if (rc == SQLITE_DONE) return done(int64_t{0});
    done(SqliteError(db, rc, "reading page views"));
  });
}

void SqliteStore::ScanVisits(int64_t from_ms, int64_t to_ms, std::string cursor, int limit,
                             Deadline, Callback<VisitPage> done) {
  if (limit < 1 || limit > kMaxScanLimit) return done(InvalidArgumentError("bad scan limit"));
  reader_->Post([this, from_ms, to_ms, cursor = std::move(cursor), limit, done = std::move(done)] {
    done(ScanVisitPage(reader_db_.get(), from_ms, to_ms, cursor, limit));
  });
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

void SqliteStore::CheckReady(Deadline, StatusCallback done) {
  reader_->Post([this, done = std::move(done)] { done(QueryTotal(reader_db_.get()).status()); });
}

void SqliteStore::CommitBatch(std::vector<PendingVisit>& batch) {
  StatusOr<BatchOutcome> outcome = TryCommit(batch);
  if (!outcome.ok()) return FailBatch(batch, outcome.status());
  if (outcome->rejected.empty()) return CompleteCommittedBatch(batch, outcome->total);
  // The visits stored are numbered in batch order, as CompleteCommittedBatch numbers a full batch.
  std::vector<StatusOr<RecordedVisit>> results;
  results.reserve(batch.size());
  int64_t total = outcome->total - outcome->stored;
  for (Status& rejected : outcome->rejected) {
    if (rejected.ok()) {
      results.push_back(RecordedVisit{++total, outcome->stored});
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
    if (stored.empty()) return OkStatus();  // nothing to commit: rolled back below, no fsync
    RETURN_IF_ERROR(AddToAggregates(stored));
    sqlite3_stmt* add = add_to_total_.get();
    sqlite3_bind_int64(add, 1, static_cast<int64_t>(stored.size()));
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
