#include "store/postgres/postgres_store.h"

#include "base/utc_time.h"
#include "store/open_store.h"
#include "store/postgres/libpq_loader.h"
#include "store/postgres/postgres_session.h"
#include "store/stats_rollup.h"

#include <libpq-fe.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string_view>
#include <tuple>
#include <unordered_set>
#include <vector>

namespace footfall::store::postgres {
namespace {

using SteadyClock = std::chrono::steady_clock;

// Any fixed number: the key of the advisory lock migrations run under.
constexpr int64_t kMigrationLockKey = 7'304'521'001;

// Versioned migrations, applied in order, each in its own transaction. Never edit one that has
// shipped; add the next.
constexpr std::string_view kMigrations[] = {
    // 1: the visit record, the sharded counter, the daily salts.
    R"sql(
CREATE TABLE visits (
  visit_id        text PRIMARY KEY,
  timestamp       timestamptz NOT NULL,
  visitor         text NOT NULL,
  user_agent      text NOT NULL,
  path            text NOT NULL,
  referrer        text NOT NULL,
  site            text NOT NULL,
  expiration_time bigint NOT NULL
);
CREATE INDEX visits_expiration_time ON visits (expiration_time);
CREATE TABLE counter_shards (
  shard integer PRIMARY KEY,
  count bigint NOT NULL
);
CREATE TABLE daily_salts (
  day  integer PRIMARY KEY,
  salt bytea NOT NULL
);
)sql",
    // 2: aggregates kept at write time, in the visits' transaction (as SQLite's schema v2). They
    // hold no visitor identifier and outlive the raw visits. path '' is the whole site. `shard`:
    // each transaction adds to its own random shard's rows, so instances do not queue on the
    // site-wide rows; readers sum the shards.
    R"sql(
CREATE TABLE hourly_stats (
  site         text NOT NULL,
  hour         bigint NOT NULL,  -- Unix hours
  path         text NOT NULL,
  shard        integer NOT NULL,
  views        bigint NOT NULL,
  new_visitors bigint NOT NULL,  -- visitors first seen that UTC day, in this hour
  PRIMARY KEY (site, hour, path, shard)
);
CREATE TABLE page_views (
  site  text NOT NULL,
  path  text NOT NULL,           -- '' = whole site
  shard integer NOT NULL,
  views bigint NOT NULL,         -- ever recorded, for the public per-page counter
  PRIMARY KEY (site, path, shard)
);
CREATE TABLE daily_dimensions (
  site  text NOT NULL,
  day   bigint NOT NULL,
  kind  text NOT NULL,           -- referrer, browser, os, device
  value text NOT NULL,
  shard integer NOT NULL,
  views bigint NOT NULL,
  PRIMARY KEY (site, day, kind, value, shard)
);
CREATE TABLE daily_drops (
  site   text NOT NULL,
  day    bigint NOT NULL,
  reason text NOT NULL,
  shard  integer NOT NULL,
  count  bigint NOT NULL,
  PRIMARY KEY (site, day, reason, shard)
);
-- Which (day, site, path, visitor hash) was already counted as unique. Needed only while that
-- day's salt lives: DeleteSaltsBefore deletes the rows of days before yesterday.
CREATE TABLE seen_visitors (
  day     bigint NOT NULL,
  site    text NOT NULL,
  path    text NOT NULL,
  visitor text NOT NULL,
  PRIMARY KEY (day, site, path, visitor)
);
)sql",
    // 3: the visit's screen-size class and whether it came with an Origin header, so that an
    // export keeps them.
    R"sql(
ALTER TABLE visits ADD COLUMN screen text NOT NULL DEFAULT '';
ALTER TABLE visits ADD COLUMN source text NOT NULL DEFAULT '';
)sql",
};
constexpr int kLatestVersion = static_cast<int>(std::size(kMigrations));

// Recording a batch is one transaction of two statements. The first inserts the visits that are
// new and marks their candidate "seen" keys ($2: rows of key number n, the visit it comes from and
// the key), returning which visits were inserted and which key numbers were new. Keys are inserted
// in sorted order so that concurrent batches take their locks in the same order.
constexpr const char* kStoreVisits = R"sql(
WITH input AS (
  SELECT * FROM jsonb_to_recordset($1::jsonb) AS v(
    visit_id text, timestamp timestamptz, visitor text, user_agent text, path text,
    referrer text, site text, expiration_time bigint, screen text, source text)
), inserted AS (
  INSERT INTO visits (visit_id, timestamp, visitor, user_agent, path, referrer, site,
                      expiration_time, screen, source)
  SELECT visit_id, timestamp, visitor, user_agent, path, referrer, site, expiration_time, screen,
         source
  FROM input
  ON CONFLICT (visit_id) DO NOTHING
  RETURNING visit_id
), candidates AS (
  SELECT * FROM jsonb_to_recordset($2::jsonb) AS k(
    n integer, visit_id text, day bigint, site text, path text, visitor text)
), seen AS (
  INSERT INTO seen_visitors (day, site, path, visitor)
  SELECT DISTINCT day, site, path, visitor FROM candidates
  WHERE visit_id IN (SELECT visit_id FROM inserted)
  ORDER BY day, site, path, visitor
  ON CONFLICT DO NOTHING
  RETURNING day, site, path, visitor
)
SELECT (SELECT string_agg(visit_id, ',') FROM inserted),
       (SELECT string_agg(DISTINCT candidates.n::text, ',')
        FROM candidates JOIN seen USING (day, site, path, visitor))
)sql";

// The second adds the batch's rollup to shard $4 of the aggregates and $5 visits to counter shard
// $4, and returns the total after. The rows come from ordered maps, so every batch locks rows in
// the same order (no deadlock between instances that drew the same shard).
constexpr const char* kAddToAggregates = R"sql(
WITH hours AS (
  INSERT INTO hourly_stats AS h (site, hour, path, shard, views, new_visitors)
  SELECT site, hour, path, $4::integer, views, new_visitors
  FROM jsonb_to_recordset($1::jsonb) AS r(
    site text, hour bigint, path text, views bigint, new_visitors bigint)
  ON CONFLICT (site, hour, path, shard) DO UPDATE
  SET views = h.views + excluded.views, new_visitors = h.new_visitors + excluded.new_visitors
), pages AS (
  INSERT INTO page_views AS p (site, path, shard, views)
  SELECT site, path, $4::integer, views
  FROM jsonb_to_recordset($2::jsonb) AS r(site text, path text, views bigint)
  ON CONFLICT (site, path, shard) DO UPDATE SET views = p.views + excluded.views
), dimensions AS (
  INSERT INTO daily_dimensions AS d (site, day, kind, value, shard, views)
  SELECT site, day, kind, value, $4::integer, views
  FROM jsonb_to_recordset($3::jsonb) AS r(
    site text, day bigint, kind text, value text, views bigint)
  ON CONFLICT (site, day, kind, value, shard) DO UPDATE SET views = d.views + excluded.views
), bumped AS (
  UPDATE counter_shards SET count = count + $5::bigint
  WHERE shard = $4::integer
  RETURNING count
)
SELECT (SELECT count FROM bumped) +
       (SELECT COALESCE(sum(count), 0) FROM counter_shards WHERE shard <> $4::integer)
)sql";

constexpr const char* kAddDrops = R"sql(
INSERT INTO daily_drops AS d (site, day, reason, shard, count)
SELECT site, day, reason, $2::integer, count
FROM jsonb_to_recordset($1::jsonb) AS r(site text, day bigint, reason text, count bigint)
ON CONFLICT (site, day, reason, shard) DO UPDATE SET count = d.count + excluded.count
)sql";

constexpr const char* kReadSeries = R"sql(
SELECT hour, sum(views)::bigint, sum(new_visitors)::bigint FROM hourly_stats
WHERE site = $1 AND path = $2 AND hour >= $3::bigint AND hour < $4::bigint
GROUP BY hour
)sql";

// Ties by byte order, as SQLite and BuildStats order them, whatever the database's collation.
constexpr const char* kReadTopPaths = R"sql(
SELECT path, sum(views)::bigint AS v, sum(new_visitors)::bigint FROM hourly_stats
WHERE site = $1 AND hour >= $2::bigint AND hour < $3::bigint AND path <> ''
GROUP BY path ORDER BY v DESC, path COLLATE "C" LIMIT $4::integer
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
       user_agent, path, referrer, site, expiration_time, screen, source
FROM visits
WHERE visit_id > $1 AND timestamp >= $2::timestamptz AND timestamp < $3::timestamptz
ORDER BY visit_id LIMIT $4::integer
)sql";

constexpr const char* kGetOrCreateSalt = R"sql(
WITH gone AS (
  DELETE FROM daily_salts WHERE day < $1::integer - 1
), created AS (
  INSERT INTO daily_salts (day, salt) VALUES ($1::integer, decode($2, 'hex'))
  ON CONFLICT (day) DO NOTHING
  RETURNING salt
)
SELECT encode(salt, 'hex') FROM created
UNION ALL
SELECT encode(salt, 'hex') FROM daily_salts WHERE day = $1::integer
)sql";

constexpr const char* kReadTotal = "SELECT COALESCE(sum(count), 0)::bigint FROM counter_shards";

std::string WithConnectTimeout(const std::string& uri, int seconds) {
  if (uri.find("connect_timeout=") != std::string::npos) return uri;
  return uri + (uri.find('?') == std::string::npos ? "?" : "&") +
         "connect_timeout=" + std::to_string(seconds);
}

SessionOptions SessionFor(const PostgresOptions& options,
                          std::chrono::milliseconds reconnect_interval) {
  SessionOptions session;
  session.uri = WithConnectTimeout(options.uri, options.connect_timeout_seconds);
  session.reconnect_interval = reconnect_interval;
  session.connect_timeout = std::chrono::seconds(options.connect_timeout_seconds);
  return session;
}

std::string Hex(const Salt& salt) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (uint8_t byte : salt) {
    out.push_back(kDigits[byte >> 4]);
    out.push_back(kDigits[byte & 0xf]);
  }
  return out;
}

std::optional<Salt> FromHex(std::string_view hex) {
  Salt salt;
  if (hex.size() != salt.size() * 2) return std::nullopt;
  auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  for (size_t i = 0; i < salt.size(); ++i) {
    salt[i] = static_cast<uint8_t>(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
  }
  return salt;
}

// Invalid UTF-8 (a stray byte in a path) is replaced rather than failing the whole batch.
std::string Dump(const nlohmann::json& rows) {
  return rows.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string Text(const PGresult* result, int row, int column) {
  return std::string(Libpq().get_value(result, row, column),
                     static_cast<size_t>(Libpq().get_length(result, row, column)));
}

int64_t Integer(const PGresult* result, int row, int column) {
  if (Libpq().get_is_null(result, row, column)) return 0;
  return std::atoll(Libpq().get_value(result, row, column));
}

// The parts of "a,b,c" (none for NULL or "").
std::vector<std::string_view> CommaList(const PGresult* result, int row, int column) {
  std::vector<std::string_view> parts;
  const std::string_view list =
      Libpq().get_is_null(result, row, column) ? "" : Libpq().get_value(result, row, column);
  for (size_t start = 0; start < list.size();) {
    const size_t comma = std::min(list.find(',', start), list.size());
    parts.push_back(list.substr(start, comma - start));
    start = comma + 1;
  }
  return parts;
}

// Used on the writer thread only.
int RandomShard(int shards) {
  thread_local std::mt19937 random_shard{std::random_device{}()};
  return std::uniform_int_distribution<int>(0, shards - 1)(random_shard);
}

}  // namespace

Status PostgresStore::Migrate(const PostgresOptions& options) {
  if (!options.uri.starts_with("postgres://") && !options.uri.starts_with("postgresql://")) {
    return InvalidArgumentError("'" + options.uri + "' is not a postgres:// URI");
  }
  if (options.counter_shards < 1 || options.counter_shards > 1024) {
    return InvalidArgumentError("counter shards must be between 1 and 1024");
  }
  RETURN_IF_ERROR(LoadLibpq());
  // A string libpq cannot parse is a configuration error, not an outage.
  char* parse_error = nullptr;
  PQconninfoOption* parsed = Libpq().conninfo_parse(options.uri.c_str(), &parse_error);
  if (parsed == nullptr) {
    std::string message = parse_error != nullptr ? parse_error : "malformed";
    Libpq().freemem(parse_error);
    while (!message.empty() && message.back() == '\n') message.pop_back();
    return InvalidArgumentError("bad PostgreSQL URI: " + message);
  }
  Libpq().conninfo_free(parsed);

  Session session(SessionFor(options, std::chrono::milliseconds(0)));
  RETURN_IF_ERROR(session.Connect());
  // Migrations may legitimately run long (an index on a big table): no statement timeout here.
  RETURN_IF_ERROR(session.Exec("SET statement_timeout = 0", {}, "configuring migrations").status());
  // Already current? Then change nothing, so instances can run as a role that may only read and
  // write footfall's tables (no CREATE on the schema, no advisory lock needed).
  {
    ASSIGN_OR_RETURN(Result current,
                     session.Exec("SELECT CASE WHEN to_regclass('footfall_schema') IS NULL "
                                  "THEN 0 ELSE 1 END",
                                  {}, "looking for the schema table"));
    if (std::string_view(Libpq().get_value(current.get(), 0, 0)) == "1") {
      ASSIGN_OR_RETURN(Result version,
                       session.Exec("SELECT COALESCE(max(version), 0) FROM footfall_schema", {},
                                    "reading the schema version"));
      const int found = std::atoi(Libpq().get_value(version.get(), 0, 0));
      if (found > kLatestVersion) {
        return FailedPreconditionError("database schema version " + std::to_string(found) +
                                       " is newer than this footfall's " +
                                       std::to_string(kLatestVersion));
      }
      if (found == kLatestVersion) {
        return session
            .Exec("INSERT INTO counter_shards (shard, count) "
                  "SELECT g, 0 FROM generate_series(0, $1::integer - 1) AS g "
                  "ON CONFLICT (shard) DO NOTHING",
                  {std::to_string(options.counter_shards)}, "creating counter shards")
            .status();
      }
    }
  }
  // Session-level lock: concurrent starts queue here, and exactly one applies each migration.
  RETURN_IF_ERROR(session
                      .Exec("SELECT pg_advisory_lock($1::bigint)",
                            {std::to_string(kMigrationLockKey)}, "taking the migration lock")
                      .status());
  auto migrate = [&]() -> Status {
    RETURN_IF_ERROR(session
                        .Exec("CREATE TABLE IF NOT EXISTS footfall_schema (version integer "
                              "NOT NULL)",
                              {}, "creating the schema table")
                        .status());
    ASSIGN_OR_RETURN(Result current,
                     session.Exec("SELECT COALESCE(max(version), 0) FROM footfall_schema", {},
                                  "reading the schema version"));
    const int version = std::atoi(Libpq().get_value(current.get(), 0, 0));
    if (version > kLatestVersion) {
      return FailedPreconditionError("database schema version " + std::to_string(version) +
                                     " is newer than this footfall's " +
                                     std::to_string(kLatestVersion));
    }
    for (int next = version + 1; next <= kLatestVersion; ++next) {
      const std::string sql = "BEGIN;" + std::string(kMigrations[next - 1]) +
                              "INSERT INTO footfall_schema (version) VALUES (" +
                              std::to_string(next) + ");COMMIT;";
      // One script, one transaction; as long as it takes (no statement timeout either).
      StatusOr<Result> applied = session.ExecScript(
          sql, "applying migration " + std::to_string(next), kNoAnswerTimeout);
      if (!applied.ok()) {
        session.Exec("ROLLBACK", {}, "rolling back a migration").status().IgnoreError();
        return applied.status();
      }
    }
    return session
        .Exec("INSERT INTO counter_shards (shard, count) "
              "SELECT g, 0 FROM generate_series(0, $1::integer - 1) AS g "
              "ON CONFLICT (shard) DO NOTHING",
              {std::to_string(options.counter_shards)}, "creating counter shards")
        .status();
  };
  Status migrated = migrate();
  session.Exec("SELECT pg_advisory_unlock($1::bigint)", {std::to_string(kMigrationLockKey)},
               "releasing the migration lock")
      .status()
      .IgnoreError();  // closing the session releases it anyway
  return migrated;
}

StatusOr<std::unique_ptr<PostgresStore>> PostgresStore::Open(PostgresOptions options) {
  RETURN_IF_ERROR(Migrate(options));
  std::unique_ptr<PostgresStore> store(new PostgresStore(std::move(options)));
  return store;
}

PostgresStore::PostgresStore(PostgresOptions options) : options_(std::move(options)) {
  writer_session_ = std::make_unique<Session>(SessionFor(options_, options_.reconnect_interval));
  reader_session_ = std::make_unique<Session>(SessionFor(options_, options_.reconnect_interval));
  writer_ = std::make_unique<GroupCommitter>(
      options_.max_batch, options_.max_queued_visits,
      [this](std::vector<PendingVisit>& batch) { CommitBatch(batch); });
  reader_ = std::make_unique<WorkerThread>("ff-reader");
}

PostgresStore::~PostgresStore() {
  writer_.reset();  // commits (or fails) whatever is still queued
  reader_.reset();
}

std::string PostgresStore::Describe() const { return RedactStoreUri(options_.uri); }

void PostgresStore::RecordVisit(Visit visit, Deadline, Callback<RecordedVisit> done) {
  writer_->Enqueue(std::move(visit), std::move(done));
}

struct PostgresStore::Committed {
  std::unordered_set<std::string> inserted;  // visit_ids stored by this batch
  int64_t total = 0;                         // the counter after it
};

void PostgresStore::CommitBatch(std::vector<PendingVisit>& batch) {
  StatusOr<Committed> result = TryCommit(batch, RandomShard(options_.counter_shards));
  if (!result.ok()) {
    FailBatch(batch, result.status());
    return;
  }
  // Visits whose id was already stored fail alone; the others are numbered like a committed batch
  // of their own (CompleteCommittedBatch), and all go home in one job per event loop.
  std::vector<int> position(batch.size(), -1);  // among the inserted visits
  int inserted = 0;
  for (size_t i = 0; i < batch.size(); ++i) {
    if (result->inserted.erase(batch[i].visit.visit_id) == 1) position[i] = inserted++;
  }
  const int64_t first = result->total - inserted + 1;
  CompleteBatch(batch, [&](size_t i) -> StatusOr<RecordedVisit> {
    if (position[i] < 0) return AlreadyExistsError("visit_id already stored");
    return RecordedVisit{first + position[i], inserted};
  });
}

StatusOr<PostgresStore::Committed> PostgresStore::TryCommit(
    const std::vector<PendingVisit>& batch, int shard) {
  using SeenKey = std::tuple<int64_t, std::string, std::string, std::string>;
  nlohmann::json rows = nlohmann::json::array();
  nlohmann::json candidates = nlohmann::json::array();
  std::vector<SeenKey> keys;  // by key number
  std::map<SeenKey, size_t> key_numbers;
  for (const PendingVisit& pending : batch) {
    const Visit& v = pending.visit;
    rows.push_back({{"visit_id", v.visit_id},     {"timestamp", v.timestamp},
                    {"visitor", v.visitor},       {"user_agent", v.user_agent},
                    {"path", v.path},             {"referrer", v.referrer},
                    {"site", v.site},             {"expiration_time", v.expiration_time},
                    {"screen", v.screen},         {"source", v.source}});
    // The keys RollUp will ask about for this visit, asked of RollUp itself.
    RollUp({&v}, [&](int64_t day, const std::string& site, const std::string& path,
                     const std::string& visitor) {
      auto [it, added] = key_numbers.emplace(SeenKey{day, site, path, visitor}, keys.size());
      if (added) keys.push_back(it->first);
      candidates.push_back({{"n", it->second}, {"visit_id", v.visit_id}, {"day", day},
                            {"site", site}, {"path", path}, {"visitor", visitor}});
      return false;
    });
  }
  Session& session = *writer_session_;
  // The transaction as a whole, not each statement, must end within kAnswerTimeout.
  const auto deadline = SteadyClock::now() + kAnswerTimeout;
  auto time_left = [deadline] {
    return std::max(std::chrono::milliseconds(1),
                    std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
                                                                          SteadyClock::now()));
  };
  RETURN_IF_ERROR(session.Begin());
  auto work = [&]() -> StatusOr<Committed> {
    ASSIGN_OR_RETURN(Result stored, session.Exec(kStoreVisits, {Dump(rows), Dump(candidates)},
                                                 "recording visits", time_left()));
    Committed committed;
    for (std::string_view id : CommaList(stored.get(), 0, 0)) committed.inserted.emplace(id);
    std::set<SeenKey> unseen;
    for (std::string_view number : CommaList(stored.get(), 0, 1)) {
      const size_t n = static_cast<size_t>(std::atoll(std::string(number).c_str()));
      if (n >= keys.size()) return InternalError("PostgreSQL returned an unknown visitor key");
      unseen.insert(keys[n]);
    }
    // Only the first of two visits with one visit_id in a batch is stored (CommitBatch agrees).
    std::vector<const Visit*> visits;
    std::unordered_set<std::string_view> not_taken(committed.inserted.begin(),
                                                   committed.inserted.end());
    for (const PendingVisit& pending : batch) {
      if (not_taken.erase(pending.visit.visit_id) == 1) visits.push_back(&pending.visit);
    }
    // A key is new for the first visit that asks about it, as when each ask is an INSERT.
    const Rollup rollup = RollUp(visits, [&](int64_t day, const std::string& site,
                                             const std::string& path, const std::string& visitor) {
      return unseen.erase(SeenKey{day, site, path, visitor}) == 1;
    });
    nlohmann::json hours = nlohmann::json::array();
    for (const auto& [key, delta] : rollup.hours) {
      hours.push_back({{"site", std::get<0>(key)}, {"hour", std::get<1>(key)},
                       {"path", std::get<2>(key)}, {"views", delta.views},
                       {"new_visitors", delta.new_visitors}});
    }
    nlohmann::json pages = nlohmann::json::array();
    for (const auto& [key, views] : rollup.page_views) {
      pages.push_back({{"site", key.first}, {"path", key.second}, {"views", views}});
    }
    nlohmann::json dimensions = nlohmann::json::array();
    for (const auto& [key, views] : rollup.dimensions) {
      dimensions.push_back({{"site", std::get<0>(key)}, {"day", std::get<1>(key)},
                            {"kind", std::get<2>(key)}, {"value", std::get<3>(key)},
                            {"views", views}});
    }
    ASSIGN_OR_RETURN(Result added,
                     session.Exec(kAddToAggregates,
                                  {Dump(hours), Dump(pages), Dump(dimensions),
                                   std::to_string(shard), std::to_string(visits.size())},
                                  "adding to the aggregates", time_left()));
    committed.total = Integer(added.get(), 0, 0);
    RETURN_IF_ERROR(session.Commit(time_left()));
    return committed;
  };
  StatusOr<Committed> committed = work();
  if (!committed.ok()) session.Rollback();
  return committed;
}

void PostgresStore::ReadTotal(Deadline, Callback<int64_t> done) {
  reader_->Post([this, done = std::move(done)] {
    StatusOr<Result> result = reader_session_->Exec(kReadTotal, {}, "reading the total");
    if (!result.ok()) return done(result.status());
    done(static_cast<int64_t>(std::atoll(Libpq().get_value(result->get(), 0, 0))));
  });
}

void PostgresStore::GetOrCreateDailySalt(int64_t day, Salt candidate, Deadline,
                                         Callback<Salt> done) {
  writer_->Run([this, day, candidate, done = std::move(done)] {
    // Twice at most: when another instance stores the day's salt during our statement, the
    // conflict hides both rows from this statement's snapshot; the next one sees it.
    for (int attempt = 0; attempt < 2; ++attempt) {
      StatusOr<Result> result = writer_session_->Exec(
          kGetOrCreateSalt, {std::to_string(day), Hex(candidate)}, "getting the daily salt");
      if (!result.ok()) return done(result.status());
      if (Libpq().ntuples(result->get()) > 0) {
        std::optional<Salt> salt = FromHex(Libpq().get_value(result->get(), 0, 0));
        if (!salt) return done(InternalError("stored salt is malformed"));
        return done(*salt);
      }
    }
    done(UnavailableError("daily salt not visible yet"));
  });
}

void PostgresStore::RecordDrop(std::string site, int64_t time_ms, std::string reason, Deadline,
                               StatusCallback done) {
  // Coalesced in memory and written by one writer job, as on SQLite: a flood of bots costs one
  // statement per writer turn, not one each.
  if (pending_drops_.Add(std::move(site), time_ms, std::move(reason))) {
    writer_->Run([this] { FlushDrops(); });
  }
  done(OkStatus());
}

void PostgresStore::FlushDrops() {
  const std::map<PendingDrops::Key, int64_t> drops = pending_drops_.Take();
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& [key, count] : drops) {
    rows.push_back({{"site", std::get<0>(key)}, {"day", std::get<1>(key)},
                    {"reason", std::get<2>(key)}, {"count", count}});
  }
  // On failure the counts are lost, as on SQLite: no client waits for them.
  writer_session_
      ->Exec(kAddDrops, {Dump(rows), std::to_string(RandomShard(options_.counter_shards))},
             "counting drops")
      .status()
      .IgnoreError();
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
  for (int i = 0; i < Libpq().ntuples(paths.get()); ++i) {
    rows.paths.push_back(
        {Text(paths.get(), i, 0), Integer(paths.get(), i, 1), Integer(paths.get(), i, 2)});
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

void PostgresStore::PruneExpired(int64_t now_seconds, Deadline, Callback<int64_t> done) {
  writer_->Run([this, now_seconds, done = std::move(done)] {
    // In slices, so a first prune of a large table does not hold one long transaction.
    int64_t deleted = 0;
    while (true) {
      StatusOr<Result> result = writer_session_->Exec(
          "DELETE FROM visits WHERE visit_id IN (SELECT visit_id FROM visits WHERE "
          "expiration_time < $1::bigint LIMIT 10000)",
          {std::to_string(now_seconds)}, "pruning expired visits");
      if (!result.ok()) return done(result.status());
      const int64_t slice = std::atoll(Libpq().cmd_tuples(result->get()));
      deleted += slice;
      if (slice < 10000) break;
    }
    done(deleted);
  });
}

void PostgresStore::DeleteSaltsBefore(int64_t first_kept_day, Deadline,
                                      Callback<int64_t> done) {
  writer_->Run([this, first_kept_day, done = std::move(done)] {
    const std::string day = std::to_string(first_kept_day);
    StatusOr<Result> salts = writer_session_->Exec(
        "DELETE FROM daily_salts WHERE day < $1::integer", {day}, "deleting old salts");
    if (!salts.ok()) return done(salts.status());
    const int64_t deleted = std::atoll(Libpq().cmd_tuples(salts->get()));
    // A deleted row stays in its heap page until the page is rewritten: VACUUM FULL writes the
    // table (a few rows) into a new file, and the old one is truncated when it commits.
    StatusOr<Result> rewrite =
        writer_session_->Exec("VACUUM FULL daily_salts", {}, "rewriting the salts table");
    if (!rewrite.ok()) return done(rewrite.status());
    // Visitor hashes of days whose salt is gone dedupe nothing any more. In slices, so a first
    // run on a large table does not hold one long transaction.
    while (true) {
      StatusOr<Result> result = writer_session_->Exec(
          "DELETE FROM seen_visitors WHERE ctid IN (SELECT ctid FROM seen_visitors WHERE "
          "day < $1::bigint LIMIT 10000)",
          {day}, "forgetting old visitor hashes");
      if (!result.ok()) return done(result.status());
      if (std::atoll(Libpq().cmd_tuples(result->get())) < 10000) return done(deleted);
    }
  });
}

void PostgresStore::CheckReady(Deadline, StatusCallback done) {
  ReadTotal(kNoDeadline, [done = std::move(done)](StatusOr<int64_t> total) {
    done(total.status());
  });
}

}  // namespace footfall::store::postgres
