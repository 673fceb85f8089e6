#include "store/sqlite/sqlite_schema.h"

#include <string>

#include "store/sqlite/sqlite_handle.h"

namespace footfall::store::sqlite {
namespace {

constexpr int kSchemaVersion = 4;

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

}  // namespace

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
    // Version 4: custom events (a visit with an event name does not count as a page view) and
    // their properties (a JSON object, "" for none). The aggregate tables are unchanged: events,
    // properties and goals are keys of hourly_stats (see store/stats_rollup.h).
    for (const char* column : {"event", "props"}) {
      ASSIGN_OR_RETURN(Statement has_column,
                       Prepare(db, ("SELECT 1 FROM pragma_table_info('visits') WHERE name = '" +
                                    std::string(column) + "'").c_str()));
      if (sqlite3_step(has_column.get()) != SQLITE_ROW) {
        RETURN_IF_ERROR(Execute(db, ("ALTER TABLE visits ADD COLUMN " + std::string(column) +
                                     " TEXT NOT NULL DEFAULT ''").c_str()));
      }
    }
    return Execute(db, ("PRAGMA user_version = " + std::to_string(kSchemaVersion)).c_str());
  };
  if (Status migrated = migrate(); !migrated.ok()) {
    Execute(db, "ROLLBACK").IgnoreError();
    return migrated;
  }
  return Execute(db, "COMMIT");
}

Status UpgradeSchemaIfOlder(sqlite3* db, const std::string& path) {
  int found = 0;
  {
    ASSIGN_OR_RETURN(Statement version, Prepare(db, "PRAGMA user_version"));
    if (sqlite3_step(version.get()) != SQLITE_ROW) {
      return FailedPreconditionError(path + " is not a SQLite database");
    }
    found = sqlite3_column_int(version.get(), 0);
    if (found > kSchemaVersion) {
      return FailedPreconditionError(path + " has schema version " + std::to_string(found) +
                                     "; this footfall knows up to " +
                                     std::to_string(kSchemaVersion));
    }
  }
  // An up-to-date database is only read: a restart writes (and fsyncs) nothing before serving, and
  // works on a full disk.
  if (found < kSchemaVersion) RETURN_IF_ERROR(MigrateToCurrentSchema(db));
  return OkStatus();
}

}  // namespace footfall::store::sqlite
