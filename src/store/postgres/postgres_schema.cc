#include "store/postgres/postgres_schema.h"

#include "store/postgres/libpq_loader.h"

#include <libpq-fe.h>

#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <string>
#include <string_view>

namespace footfall::store::postgres {
namespace {

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
    // 4: custom events (a visit with an event name is not a page view) and their properties (a
    // JSON object as text, '' for none). Events, properties and goals are keys of the aggregate
    // tables (store/stats_rollup.h): those tables are unchanged.
    R"sql(
ALTER TABLE visits ADD COLUMN event text NOT NULL DEFAULT '';
ALTER TABLE visits ADD COLUMN props text NOT NULL DEFAULT '';
)sql",
};
constexpr int kLatestVersion = static_cast<int>(std::size(kMigrations));

// Adds the counter rows 0..counter_shards-1 that are missing.
Status CreateCounterShards(Session& session, int counter_shards) {
  return session
      .Exec("INSERT INTO counter_shards (shard, count) "
            "SELECT g, 0 FROM generate_series(0, $1::integer - 1) AS g "
            "ON CONFLICT (shard) DO NOTHING",
            {std::to_string(counter_shards)}, "creating counter shards")
      .status();
}

Status NewerSchemaError(int found) {
  return FailedPreconditionError("database schema version " + std::to_string(found) +
                                 " is newer than this footfall's " +
                                 std::to_string(kLatestVersion));
}

}  // namespace

Status ApplyMigrations(Session& session, int counter_shards) {
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
      if (found > kLatestVersion) return NewerSchemaError(found);
      if (found == kLatestVersion) return CreateCounterShards(session, counter_shards);
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
    if (version > kLatestVersion) return NewerSchemaError(version);
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
    return CreateCounterShards(session, counter_shards);
  };
  Status migrated = migrate();
  session.Exec("SELECT pg_advisory_unlock($1::bigint)", {std::to_string(kMigrationLockKey)},
               "releasing the migration lock")
      .status()
      .IgnoreError();  // closing the session releases it anyway
  return migrated;
}

}  // namespace footfall::store::postgres
