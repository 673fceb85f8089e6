// SqliteStore's read path: the total, statistics, page views and export scans, each a job on the
// reader thread and its own connection (WAL: readers never wait for the writer). Opening and the
// write path are in sqlite_store.cc, the schema in sqlite_schema.cc.
#include "store/sqlite/sqlite_store.h"

#include <algorithm>
#include <functional>
#include <string>
#include <utility>

#include "base/utc_time.h"
#include "store/props_text.h"
#include "store/stats_rollup.h"

namespace footfall::store::sqlite {
namespace {

StatusOr<int64_t> QueryTotal(sqlite3* db) {
  ASSIGN_OR_RETURN(Statement statement,
                   Prepare(db, "SELECT count FROM counters WHERE name = 'total'"));
  const int rc = sqlite3_step(statement.get());
  if (rc == SQLITE_ROW) return static_cast<int64_t>(sqlite3_column_int64(statement.get(), 0));
  if (rc == SQLITE_DONE) return int64_t{0};
  return SqliteError(db, rc, "reading the total");
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
                           "site, expiration_time, screen, source, event, props FROM visits WHERE visit_id > ? AND "
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
    visit.event = text(10);
    ASSIGN_OR_RETURN(visit.props, DecodeProps(text(11)));
    bool date_only = false;
    ASSIGN_OR_RETURN(visit.time_ms, ParseUtcTime(visit.timestamp, date_only));
    page.visits.push_back(std::move(visit));
  }
  if (rc != SQLITE_DONE) return SqliteError(db, rc, "scanning visits");
  if (page.visits.size() == static_cast<size_t>(limit)) page.next_cursor = page.visits.back().visit_id;
  return page;
}

// Answers a stats query from the aggregate tables (sums in SQL; no raw visit is read).
// Runs `sql`, whose parameters are a site and a first and last day, and hands each row to `row`.
Status ForEachRowOfDays(sqlite3* db, const char* sql, const std::string& site, int64_t first_day,
                        int64_t last_day, const char* what,
                        const std::function<void(sqlite3_stmt*)>& row) {
  ASSIGN_OR_RETURN(Statement statement, Prepare(db, sql));
  RETURN_IF_ERROR(BindText(db, statement.get(), 1, site));
  sqlite3_bind_int64(statement.get(), 2, first_day);
  sqlite3_bind_int64(statement.get(), 3, last_day);
  int rc;
  while ((rc = sqlite3_step(statement.get())) == SQLITE_ROW) row(statement.get());
  if (rc != SQLITE_DONE) return SqliteError(db, rc, what);
  return OkStatus();
}

// Appends to `out` the views and visitor-days over the query's range of the aggregate keys that
// `condition` (SQL on `path`) selects, most viewed first, at most `limit` (-1: all). Whole days of
// the range come from the daily rows, the hours of a partial first or last day from the hourly
// ones. A `prefix` is bound to ?9 and, with its last byte incremented, to ?10: the range of keys
// starting with it.
Status ReadKeyTotals(sqlite3* db, const StatsQuery& query, const std::string& condition,
                     int limit, std::vector<NamedCount>& out, const std::string& prefix = "") {
  const int64_t first = FirstHour(query), end = EndHour(query);
  const int64_t whole_first = (first + 23) / 24, whole_end = std::max(whole_first, end / 24);
  const std::string sql =
      "SELECT path, SUM(v) AS total, SUM(n) FROM ("
      " SELECT path, views AS v, new_visitors AS n FROM daily_path_stats"
      " WHERE site = ?1 AND day >= ?2 AND day < ?3 AND " + condition +
      " UNION ALL"
      " SELECT path, views, new_visitors FROM hourly_stats"
      " WHERE site = ?1 AND hour >= ?4 AND hour < ?5 AND " + condition +
      " UNION ALL"
      " SELECT path, views, new_visitors FROM hourly_stats"
      " WHERE site = ?1 AND hour >= ?6 AND hour < ?7 AND " + condition +
      ") GROUP BY path ORDER BY total DESC, path LIMIT ?8";
  ASSIGN_OR_RETURN(Statement keys, Prepare(db, sql.c_str()));
  RETURN_IF_ERROR(BindText(db, keys.get(), 1, query.site));
  sqlite3_bind_int64(keys.get(), 2, whole_first);
  sqlite3_bind_int64(keys.get(), 3, whole_end);
  sqlite3_bind_int64(keys.get(), 4, first);
  sqlite3_bind_int64(keys.get(), 5, std::min(end, whole_first * 24));
  sqlite3_bind_int64(keys.get(), 6, std::max(whole_end * 24, whole_first * 24));
  sqlite3_bind_int64(keys.get(), 7, end);
  sqlite3_bind_int(keys.get(), 8, limit);
  // Bound without a copy: `after` must live until the last step.
  std::string after = prefix;
  if (!prefix.empty()) {
    ++after.back();  // the prefix ends with the separator \x1f: no overflow
    RETURN_IF_ERROR(BindText(db, keys.get(), 9, prefix));
    RETURN_IF_ERROR(BindText(db, keys.get(), 10, after));
  }
  int rc;
  while ((rc = sqlite3_step(keys.get())) == SQLITE_ROW) {
    out.push_back({reinterpret_cast<const char*>(sqlite3_column_text(keys.get(), 0)),
                   sqlite3_column_int64(keys.get(), 1), sqlite3_column_int64(keys.get(), 2)});
  }
  if (rc != SQLITE_DONE) return SqliteError(db, rc, "reading aggregate keys");
  return OkStatus();
}

// Whether a write could begin now: another process holding the database's write lock (an open
// write transaction in a sqlite3 shell, a backup) blocks every visit while reads go on, so a
// store that only reads would look ready. footfall's own writer holds the lock for a commit's
// milliseconds; the probe waits up to kWriteLockProbeMs for it.
Status ProbeWriteLock(sqlite3* db, int busy_timeout_ms) {
  constexpr int kWriteLockProbeMs = 250;
  sqlite3_busy_timeout(db, kWriteLockProbeMs);
  Status status = Execute(db, "BEGIN IMMEDIATE");
  sqlite3_busy_timeout(db, busy_timeout_ms);
  if (!status.ok()) return status;
  return Execute(db, "ROLLBACK");
}

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
  RETURN_IF_ERROR(ReadKeyTotals(db, query, "path >= '/' AND path < '0'", query.top, rows.paths));
  // Events and goals (a few keys), and the properties of the event asked about.
  const std::string props_prefix = query.event.empty() ? "" : PropKeysPrefix(query.event);
  const std::string keys = std::string("((path >= 'event:' AND path < 'event;') OR ") +
                           "(path >= 'goal:' AND path < 'goal;')" +
                           (props_prefix.empty() ? ")" : " OR (path >= ?9 AND path < ?10))");
  RETURN_IF_ERROR(ReadKeyTotals(db, query, keys, -1, rows.paths, props_prefix));
  RETURN_IF_ERROR(ForEachRowOfDays(
      db,
      "SELECT kind, value, SUM(views) FROM daily_dimensions "
      "WHERE site = ? AND day >= ? AND day <= ? GROUP BY kind, value",
      query.site, first_day, last_day, "reading dimensions", [&](sqlite3_stmt* row) {
        const std::string kind = reinterpret_cast<const char*>(sqlite3_column_text(row, 0));
        rows.dimensions[kind].push_back(
            {reinterpret_cast<const char*>(sqlite3_column_text(row, 1)),
             sqlite3_column_int64(row, 2), 0});
      }));
  RETURN_IF_ERROR(ForEachRowOfDays(
      db,
      "SELECT reason, SUM(count) FROM daily_drops "
      "WHERE site = ? AND day >= ? AND day <= ? GROUP BY reason",
      query.site, first_day, last_day, "reading drops", [&](sqlite3_stmt* row) {
        rows.drops.push_back({reinterpret_cast<const char*>(sqlite3_column_text(row, 0)),
                              sqlite3_column_int64(row, 1), 0});
      }));
  return BuildStats(query, std::move(rows));
}

}  // namespace

void SqliteStore::ReadTotal(Deadline, Callback<int64_t> done) {
  reader_->Post([this, done = std::move(done)] { done(QueryTotal(reader_db_.get())); });
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

void SqliteStore::CheckReady(Deadline, StatusCallback done) {
  reader_->Post([this, done = std::move(done)] {
    sqlite3* db = reader_db_.get();
    if (StatusOr<int64_t> total = QueryTotal(db); !total.ok()) return done(total.status());
    done(ProbeWriteLock(db, options_.busy_timeout_ms));
  });
}

}  // namespace footfall::store::sqlite
