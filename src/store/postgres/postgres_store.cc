#include "store/postgres/postgres_store.h"

#include "store/open_store.h"

#include <libpq-fe.h>
#include <poll.h>

#include <cerrno>

#include <nlohmann/json.hpp>

#include <random>
#include <string_view>
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
};
constexpr int kLatestVersion = static_cast<int>(std::size(kMigrations));

// Recording a batch is one statement (one round trip, one implicit transaction): insert the
// visits that are new, add their number to one counter shard, and return which were inserted and
// the total after.
constexpr const char* kRecordBatch = R"sql(
WITH input AS (
  SELECT * FROM jsonb_to_recordset($1::jsonb) AS v(
    visit_id text, timestamp timestamptz, visitor text, user_agent text, path text,
    referrer text, site text, expiration_time bigint)
), inserted AS (
  INSERT INTO visits (visit_id, timestamp, visitor, user_agent, path, referrer, site,
                      expiration_time)
  SELECT visit_id, timestamp, visitor, user_agent, path, referrer, site, expiration_time
  FROM input
  ON CONFLICT (visit_id) DO NOTHING
  RETURNING visit_id
), bumped AS (
  UPDATE counter_shards SET count = count + (SELECT count(*) FROM inserted)
  WHERE shard = $2::integer
  RETURNING count
)
SELECT (SELECT string_agg(visit_id, ',') FROM inserted),
       (SELECT count FROM bumped) +
       (SELECT COALESCE(sum(count), 0) FROM counter_shards WHERE shard <> $2::integer)
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

struct ResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

std::string OneLine(std::string_view text);

// The one mapping from PostgreSQL errors (SQLSTATE) to Status codes.
Status PostgresError(PGconn* conn, const PGresult* result, std::string_view what) {
  std::string message(what);
  message += ": ";
  const char* detail = result != nullptr ? PQresultErrorMessage(result) : PQerrorMessage(conn);
  message += OneLine(detail != nullptr && *detail != '\0' ? detail : PQerrorMessage(conn));
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const std::string_view sqlstate = state != nullptr ? state : "";
  if (sqlstate.empty() || PQstatus(conn) == CONNECTION_BAD) return UnavailableError(message);
  if (sqlstate == "23505") return AlreadyExistsError(message);
  if (sqlstate.starts_with("08") || sqlstate.starts_with("57P") || sqlstate == "57014" ||
      sqlstate == "40001" ||
      sqlstate == "40P01" || sqlstate == "53300" || sqlstate == "55P03") {
    return UnavailableError(message);
  }
  if (sqlstate.starts_with("53")) return ResourceExhaustedError(message);
  if (sqlstate.starts_with("28") || sqlstate == "3D000" || sqlstate == "42P01") {
    return FailedPreconditionError(message);
  }
  return InternalError(message);
}

// libpq's messages span lines ("...failed: Connection refused\n\tIs the server running...");
// footfall's errors and logs are one line each.
std::string OneLine(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\n' || c == '\t') {
      if (!out.empty() && out.back() != ' ') out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// True if `socket` has bytes or an EOF waiting (checked without blocking).
bool HasUnsolicitedInput(int socket) {
  if (socket < 0) return true;
  pollfd descriptor{socket, POLLIN, 0};
  return ::poll(&descriptor, 1, 0) != 0;
}

std::string WithConnectTimeout(const std::string& uri, int seconds) {
  if (uri.find("connect_timeout=") != std::string::npos) return uri;
  return uri + (uri.find('?') == std::string::npos ? "?" : "&") +
         "connect_timeout=" + std::to_string(seconds);
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

}  // namespace

// A libpq connection that reconnects itself, at most once per reconnect_interval while the
// database is down (so a down database costs a fast failure, not a connection storm).
// Used by one thread at a time.
class PostgresStore::Session {
 public:
  Session(std::string uri, std::chrono::milliseconds reconnect_interval)
      : uri_(std::move(uri)), reconnect_interval_(reconnect_interval) {}
  ~Session() { Close(); }

  StatusOr<PGconn*> Get() {
    if (conn_ != nullptr) {
      // An idle connection has nothing to read (footfall uses no LISTEN): anything readable is
      // a "terminating connection" message or EOF from a restarted server, a proxy's idle
      // timeout or idle_session_timeout. Then a new connection is opened now, before anything
      // is sent, instead of failing one request with a 503.
      if (PQstatus(conn_) == CONNECTION_OK && !HasUnsolicitedInput(PQsocket(conn_))) return conn_;
      Close();
      last_attempt_ = {};  // it was up a moment ago: reconnect at once
    }
    const auto now = SteadyClock::now();
    if (now - last_attempt_ < reconnect_interval_) {
      return UnavailableError("database unreachable (retrying): " +
                              (last_error_.empty() ? std::string("connection lost") : last_error_));
    }
    last_attempt_ = now;
    conn_ = PQconnectdb(uri_.c_str());
    if (PQstatus(conn_) != CONNECTION_OK) {
      last_error_ = OneLine(PQerrorMessage(conn_));
      Close();
      return UnavailableError("cannot connect to PostgreSQL: " + last_error_);
    }
    // Notices ("relation already exists, skipping") are not errors; keep them off stderr.
    PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
    // A statement waiting on a lock (or a stuck server) must end within a request's budget.
    Result timeout(PQexec(conn_, "SET statement_timeout = 5000"));
    if (PQresultStatus(timeout.get()) != PGRES_COMMAND_OK) {
      last_error_ = OneLine(PQerrorMessage(conn_));
      Close();
      return UnavailableError("configuring the PostgreSQL session: " + last_error_);
    }
    return conn_;
  }

  // Runs one statement with text parameters. Errors: as PostgresError.
  // Runs one statement with text parameters, waiting at most `timeout` for the answer (the
  // server's statement_timeout cannot help when the server itself stops answering). On a
  // client-side timeout the connection is dropped: its state is unknown. Errors: as
  // PostgresError, kDeadlineExceeded on timeout.
  StatusOr<Result> Exec(const char* sql, const std::vector<std::string>& params,
                        std::string_view what,
                        std::chrono::milliseconds timeout = std::chrono::milliseconds(6000)) {
    ASSIGN_OR_RETURN(PGconn * conn, Get());
    std::vector<const char*> values;
    for (const std::string& param : params) values.push_back(param.c_str());
    if (PQsendQueryParams(conn, sql, static_cast<int>(values.size()), nullptr, values.data(),
                          nullptr, nullptr, 0) != 1) {
      Status error = PostgresError(conn, nullptr, what);
      Close();
      return error;
    }
    const auto deadline = SteadyClock::now() + timeout;
    Result last;
    while (true) {
      // Flush what is left to send, then wait for the answer without blocking past the deadline.
      while (PQisBusy(conn) || PQflush(conn) == 1) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - SteadyClock::now());
        if (left.count() <= 0) {
          Close();
          return DeadlineExceededError(std::string(what) + ": no answer from PostgreSQL within " +
                                       std::to_string(timeout.count()) + " ms");
        }
        pollfd descriptor{PQsocket(conn), POLLIN, 0};
        if (::poll(&descriptor, 1, static_cast<int>(left.count())) < 0 && errno != EINTR) break;
        if (PQconsumeInput(conn) != 1) break;
      }
      Result result(PQgetResult(conn));
      if (result == nullptr) break;  // every result of the statement has been read
      last = std::move(result);
    }
    const ExecStatusType status = PQresultStatus(last.get());
    if (last != nullptr && (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)) return last;
    Status error = PostgresError(conn, last.get(), what);
    if (PQstatus(conn) == CONNECTION_BAD) Close();  // reconnect next time
    return error;
  }

 private:
  void Close() {
    if (conn_ != nullptr) PQfinish(conn_);
    conn_ = nullptr;
  }

  const std::string uri_;
  const std::chrono::milliseconds reconnect_interval_;
  PGconn* conn_ = nullptr;
  SteadyClock::time_point last_attempt_{};
  std::string last_error_;
};

Status PostgresStore::Migrate(const PostgresOptions& options) {
  if (!options.uri.starts_with("postgres://") && !options.uri.starts_with("postgresql://")) {
    return InvalidArgumentError("'" + options.uri + "' is not a postgres:// URI");
  }
  if (options.counter_shards < 1 || options.counter_shards > 1024) {
    return InvalidArgumentError("counter shards must be between 1 and 1024");
  }
  // A string libpq cannot parse is a configuration error, not an outage.
  char* parse_error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(options.uri.c_str(), &parse_error);
  if (parsed == nullptr) {
    std::string message = parse_error != nullptr ? parse_error : "malformed";
    PQfreemem(parse_error);
    while (!message.empty() && message.back() == '\n') message.pop_back();
    return InvalidArgumentError("bad PostgreSQL URI: " + message);
  }
  PQconninfoFree(parsed);

  Session session(WithConnectTimeout(options.uri, options.connect_timeout_seconds),
                  std::chrono::milliseconds(0));
  RETURN_IF_ERROR(session.Get().status());
  // Migrations may legitimately run long (an index on a big table): no statement timeout here.
  RETURN_IF_ERROR(session.Exec("SET statement_timeout = 0", {}, "configuring migrations").status());
  // Already current? Then change nothing, so instances can run as a role that may only read and
  // write footfall's tables (no CREATE on the schema, no advisory lock needed).
  {
    ASSIGN_OR_RETURN(Result current,
                     session.Exec("SELECT CASE WHEN to_regclass('footfall_schema') IS NULL "
                                  "THEN 0 ELSE 1 END",
                                  {}, "looking for the schema table"));
    if (std::string_view(PQgetvalue(current.get(), 0, 0)) == "1") {
      ASSIGN_OR_RETURN(Result version,
                       session.Exec("SELECT COALESCE(max(version), 0) FROM footfall_schema", {},
                                    "reading the schema version"));
      const int found = std::atoi(PQgetvalue(version.get(), 0, 0));
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
    const int version = std::atoi(PQgetvalue(current.get(), 0, 0));
    if (version > kLatestVersion) {
      return FailedPreconditionError("database schema version " + std::to_string(version) +
                                     " is newer than this footfall's " +
                                     std::to_string(kLatestVersion));
    }
    for (int next = version + 1; next <= kLatestVersion; ++next) {
      const std::string sql = "BEGIN;" + std::string(kMigrations[next - 1]) +
                              "INSERT INTO footfall_schema (version) VALUES (" +
                              std::to_string(next) + ");COMMIT;";
      // A multi-statement script has no parameters: PQexec runs it as one transaction here.
      ASSIGN_OR_RETURN(PGconn * conn, session.Get());
      Result result(PQexec(conn, sql.c_str()));
      if (PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
        Status error = PostgresError(conn, result.get(), "applying migration " +
                                                             std::to_string(next));
        Result rollback(PQexec(conn, "ROLLBACK"));
        return error;
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
  const std::string uri = WithConnectTimeout(options_.uri, options_.connect_timeout_seconds);
  writer_session_ = std::make_unique<Session>(uri, options_.reconnect_interval);
  reader_session_ = std::make_unique<Session>(uri, options_.reconnect_interval);
  writer_ = std::make_unique<GroupCommitter>(
      options_.max_batch, options_.max_queued_visits,
      [this](std::vector<PendingVisit>& batch) { CommitBatch(batch); });
  reader_ = std::make_unique<WorkerThread>();
}

PostgresStore::~PostgresStore() {
  writer_.reset();  // commits (or fails) whatever is still queued
  reader_.reset();
}

std::string PostgresStore::Describe() const { return RedactStoreUri(options_.uri); }

void PostgresStore::RecordVisit(Visit visit, Deadline, Callback<RecordedVisit> done) {
  writer_->Enqueue(std::move(visit), std::move(done));
}

void PostgresStore::CommitBatch(std::vector<PendingVisit>& batch) {
  nlohmann::json rows = nlohmann::json::array();
  for (const PendingVisit& pending : batch) {
    const Visit& v = pending.visit;
    rows.push_back({{"visit_id", v.visit_id},     {"timestamp", v.timestamp},
                    {"visitor", v.visitor},       {"user_agent", v.user_agent},
                    {"path", v.path},             {"referrer", v.referrer},
                    {"site", v.site},             {"expiration_time", v.expiration_time}});
  }
  thread_local std::mt19937 random_shard{std::random_device{}()};
  const int shard = std::uniform_int_distribution<int>(0, options_.counter_shards - 1)(random_shard);
  StatusOr<Result> result = writer_session_->Exec(
      kRecordBatch,
      {rows.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), std::to_string(shard)},
      "recording visits");
  if (!result.ok()) {
    for (PendingVisit& pending : batch) pending.done(result.status());
    return;
  }
  PGresult* row = result->get();
  std::unordered_set<std::string_view> inserted;
  const std::string_view ids = PQgetisnull(row, 0, 0) ? "" : PQgetvalue(row, 0, 0);
  for (size_t start = 0; start < ids.size();) {
    const size_t comma = std::min(ids.find(',', start), ids.size());
    inserted.insert(ids.substr(start, comma - start));
    start = comma + 1;
  }
  const int64_t total = PQgetisnull(row, 0, 1) ? 0 : std::atoll(PQgetvalue(row, 0, 1));
  std::vector<PendingVisit> committed;
  for (PendingVisit& pending : batch) {
    if (inserted.count(pending.visit.visit_id) != 0) {
      committed.push_back(std::move(pending));
    } else {
      pending.done(AlreadyExistsError("visit_id already stored"));
    }
  }
  if (!committed.empty()) CompleteCommittedBatch(committed, total);
}

void PostgresStore::ReadTotal(Deadline, Callback<int64_t> done) {
  reader_->Post([this, done = std::move(done)] {
    StatusOr<Result> result = reader_session_->Exec(kReadTotal, {}, "reading the total");
    if (!result.ok()) return done(result.status());
    done(static_cast<int64_t>(std::atoll(PQgetvalue(result->get(), 0, 0))));
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
      if (PQntuples(result->get()) > 0) {
        std::optional<Salt> salt = FromHex(PQgetvalue(result->get(), 0, 0));
        if (!salt) return done(InternalError("stored salt is malformed"));
        return done(*salt);
      }
    }
    done(UnavailableError("daily salt not visible yet"));
  });
}

void PostgresStore::RecordDrop(std::string, int64_t, std::string, Deadline, StatusCallback done) {
  done(UnimplementedError("drop counts are not kept on PostgreSQL yet"));
}

void PostgresStore::QueryStats(StatsQuery, Deadline, Callback<Stats> done) {
  done(UnimplementedError("statistics are not kept on PostgreSQL yet"));
}

void PostgresStore::ReadPageViews(std::string, std::string, Deadline, Callback<int64_t> done) {
  done(UnimplementedError("page counters are not kept on PostgreSQL yet"));
}

void PostgresStore::ScanVisits(int64_t, int64_t, std::string, int, Deadline,
                               Callback<VisitPage> done) {
  done(UnimplementedError("exporting visits is not implemented on this engine yet"));
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
      const int64_t slice = std::atoll(PQcmdTuples(result->get()));
      deleted += slice;
      if (slice < 10000) return done(deleted);
    }
  });
}

void PostgresStore::CheckReady(Deadline, StatusCallback done) {
  ReadTotal(kNoDeadline, [done = std::move(done)](StatusOr<int64_t> total) {
    done(total.status());
  });
}

}  // namespace footfall::store::postgres
