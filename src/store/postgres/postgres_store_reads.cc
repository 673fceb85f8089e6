// PostgresStore's read path: the total, statistics, page views and export scans, each a job on
// the reader thread and its own connection (the write path and the lifecycle are in
// postgres_store.cc, the schema in postgres_schema.cc).
#include "store/postgres/postgres_store.h"

#include "base/utc_time.h"
#include "store/postgres/libpq_loader.h"
#include "store/postgres/postgres_result.h"
#include "store/postgres/postgres_session.h"
#include "store/props_text.h"
#include "store/stats_rollup.h"

#include <libpq-fe.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <utility>

namespace footfall::store::postgres {
namespace {

constexpr const char* kReadSeries = R"sql(
SELECT hour, sum(views)::bigint, sum(new_visitors)::bigint FROM hourly_stats
WHERE site = $1 AND path = $2 AND hour >= $3::bigint AND hour < $4::bigint
GROUP BY hour
)sql";

// Ties by byte order, as SQLite and BuildStats order them, whatever the database's collation.
constexpr const char* kReadTopPaths = R"sql(
SELECT path, sum(views)::bigint AS v, sum(new_visitors)::bigint FROM hourly_stats
WHERE site = $1 AND hour >= $2::bigint AND hour < $3::bigint AND starts_with(path, '/')
GROUP BY path ORDER BY v DESC, path COLLATE "C" LIMIT $4::integer
)sql";

// Every event and goal key (a few), and the property keys of one event ($4; '' for none).
constexpr const char* kReadEventKeys = R"sql(
SELECT path, sum(views)::bigint, sum(new_visitors)::bigint FROM hourly_stats
WHERE site = $1 AND hour >= $2::bigint AND hour < $3::bigint
  AND (starts_with(path, 'event:') OR starts_with(path, 'goal:')
       OR ($4 <> '' AND starts_with(path, $4)))
GROUP BY path
)sql";

constexpr const char* kReadDimensions = R"sql(
SELECT kind, value, sum(views)::bigint FROM daily_dimensions
WHERE site = $1 AND day >= $2::bigint AND day <= $3::bigint
GROUP BY kind, value
)sql";

constexpr const char* kReadDrops = R"sql(
SELECT reason, sum(count)::bigint FROM daily_drops
WHERE site = $1 AND day >= $2::bigint AND day <= $3::bigint
GROUP BY reason
)sql";

constexpr const char* kReadPageViews =
    "SELECT COALESCE(sum(views), 0)::bigint FROM page_views WHERE site = $1 AND path = $2";

// timestamp is timestamptz: compared as one, and printed back as the UTC text it was stored from.
constexpr const char* kScanVisits = R"sql(
SELECT visit_id, to_char(timestamp AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), visitor,
       user_agent, path, referrer, site, expiration_time, screen, source, event, props
FROM visits
WHERE visit_id > $1 AND timestamp >= $2::timestamptz AND timestamp < $3::timestamptz
ORDER BY visit_id LIMIT $4::integer
)sql";

constexpr const char* kReadTotal = "SELECT COALESCE(sum(count), 0)::bigint FROM counter_shards";

}  // namespace

void PostgresStore::ReadTotal(Deadline, Callback<int64_t> done) {
  reader_->Post([this, done = std::move(done)] {
    StatusOr<Result> result = reader_session_->Exec(kReadTotal, {}, "reading the total");
    if (!result.ok()) return done(result.status());
    done(static_cast<int64_t>(std::atoll(Libpq().get_value(result->get(), 0, 0))));
  });
}

StatusOr<Stats> PostgresStore::ReadStats(const StatsQuery& query) {
  Session& session = *reader_session_;
  const int64_t first = FirstHour(query), end = EndHour(query);
  const std::string first_day = std::to_string(DayOfHour(first));
  const std::string last_day = std::to_string(DayOfHour(end - 1));
  StatsRows rows;
  ASSIGN_OR_RETURN(Result series,
                   session.Exec(kReadSeries,
                                {query.site, query.path, std::to_string(first),
                                 std::to_string(end)},
                                "reading the series"));
  for (int i = 0; i < Libpq().ntuples(series.get()); ++i) {
    const int64_t hour = Integer(series.get(), i, 0);
    const int64_t views = Integer(series.get(), i, 1);
    const int64_t visitors = Integer(series.get(), i, 2);
    const int64_t bucket = query.interval == Interval::kHour ? hour : DayOfHour(hour);
    rows.buckets[bucket].views += views;
    rows.buckets[bucket].new_visitors += visitors;
    rows.daily_new[DayOfHour(hour)] += visitors;
  }
  ASSIGN_OR_RETURN(Result paths,
                   session.Exec(kReadTopPaths,
                                {query.site, std::to_string(first), std::to_string(end),
                                 std::to_string(query.top)},
                                "reading top paths"));
  ASSIGN_OR_RETURN(Result events,
                   session.Exec(kReadEventKeys,
                                {query.site, std::to_string(first), std::to_string(end),
                                 query.event.empty() ? "" : PropKeysPrefix(query.event)},
                                "reading events and goals"));
  for (const Result* keys : {&paths, &events}) {
    for (int i = 0; i < Libpq().ntuples(keys->get()); ++i) {
      rows.paths.push_back(
          {Text(keys->get(), i, 0), Integer(keys->get(), i, 1), Integer(keys->get(), i, 2)});
    }
  }
  ASSIGN_OR_RETURN(Result dimensions,
                   session.Exec(kReadDimensions, {query.site, first_day, last_day},
                                "reading dimensions"));
  for (int i = 0; i < Libpq().ntuples(dimensions.get()); ++i) {
    rows.dimensions[Text(dimensions.get(), i, 0)].push_back(
        {Text(dimensions.get(), i, 1), Integer(dimensions.get(), i, 2), 0});
  }
  ASSIGN_OR_RETURN(Result drops, session.Exec(kReadDrops, {query.site, first_day, last_day},
                                              "reading drops"));
  for (int i = 0; i < Libpq().ntuples(drops.get()); ++i) {
    rows.drops.push_back({Text(drops.get(), i, 0), Integer(drops.get(), i, 1), 0});
  }
  return BuildStats(query, std::move(rows));
}

StatusOr<VisitPage> PostgresStore::ReadVisitPage(int64_t from_ms, int64_t to_ms,
                                                 const std::string& cursor, int limit) {
  Session& session = *reader_session_;
  constexpr int64_t kLastMs = 253'402'300'799'999;  // 9999-12-31T23:59:59.999Z
  const std::string from = FormatUtcMillis(std::clamp<int64_t>(from_ms, 0, kLastMs));
  const std::string to =
      to_ms > kLastMs ? "infinity" : FormatUtcMillis(std::max<int64_t>(to_ms, 0));
  ASSIGN_OR_RETURN(Result scan, session.Exec(kScanVisits,
                                             {cursor, from, to, std::to_string(limit)},
                                             "scanning visits"));
  VisitPage page;
  for (int i = 0; i < Libpq().ntuples(scan.get()); ++i) {
    Visit visit;
    visit.visit_id = Text(scan.get(), i, 0);
    visit.timestamp = Text(scan.get(), i, 1);
    visit.visitor = Text(scan.get(), i, 2);
    visit.user_agent = Text(scan.get(), i, 3);
    visit.path = Text(scan.get(), i, 4);
    visit.referrer = Text(scan.get(), i, 5);
    visit.site = Text(scan.get(), i, 6);
    visit.expiration_time = Integer(scan.get(), i, 7);
    visit.screen = Text(scan.get(), i, 8);
    visit.source = Text(scan.get(), i, 9);
    visit.event = Text(scan.get(), i, 10);
    ASSIGN_OR_RETURN(visit.props, DecodeProps(Text(scan.get(), i, 11)));
    bool date_only = false;
    ASSIGN_OR_RETURN(visit.time_ms, ParseUtcTime(visit.timestamp, date_only));
    page.visits.push_back(std::move(visit));
  }
  if (page.visits.size() == static_cast<size_t>(limit)) {
    page.next_cursor = page.visits.back().visit_id;
  }
  return page;
}

void PostgresStore::QueryStats(StatsQuery query, Deadline, Callback<Stats> done) {
  if (Status valid = ValidateStatsQuery(query); !valid.ok()) return done(valid);
  reader_->Post([this, query = std::move(query), done = std::move(done)] {
    done(ReadStats(query));
  });
}

void PostgresStore::ReadPageViews(std::string site, std::string path, Deadline,
                                  Callback<int64_t> done) {
  reader_->Post([this, site = std::move(site), path = std::move(path), done = std::move(done)] {
    StatusOr<Result> result =
        reader_session_->Exec(kReadPageViews, {site, path}, "reading page views");
    if (!result.ok()) return done(result.status());
    done(Integer(result->get(), 0, 0));
  });
}

void PostgresStore::ScanVisits(int64_t from_ms, int64_t to_ms, std::string cursor, int limit,
                               Deadline, Callback<VisitPage> done) {
  if (limit < 1 || limit > kMaxScanLimit) return done(InvalidArgumentError("bad scan limit"));
  reader_->Post([this, from_ms, to_ms, cursor = std::move(cursor), limit, done = std::move(done)] {
    done(ReadVisitPage(from_ms, to_ms, cursor, limit));
  });
}

void PostgresStore::CheckReady(Deadline, StatusCallback done) {
  ReadTotal(kNoDeadline, [done = std::move(done)](StatusOr<int64_t> total) {
    done(total.status());
  });
}

}  // namespace footfall::store::postgres
