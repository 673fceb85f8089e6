// PostgresStore: opening, closing and the write path (visits in group-committed batches, salts,
// drops, pruning), on the writer thread and its own connection. The read path is in
// postgres_store_reads.cc, the schema and its migrations in postgres_schema.cc.
#include "store/postgres/postgres_store.h"

#include "store/store_uri.h"
#include "store/postgres/libpq_loader.h"
#include "store/postgres/postgres_result.h"
#include "store/postgres/postgres_schema.h"
#include "store/postgres/postgres_session.h"
#include "store/props_text.h"
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

// Recording a batch is one transaction of two statements. The first inserts the visits that are
// new and marks their candidate "seen" keys ($2: rows of key number n, the visit it comes from and
// the key), returning which visits were inserted and which key numbers were new. Keys are inserted
// in sorted order so that concurrent batches take their locks in the same order.
constexpr const char* kStoreVisits = R"sql(
WITH input AS (
  SELECT * FROM jsonb_to_recordset($1::jsonb) AS v(
    visit_id text, timestamp timestamptz, visitor text, user_agent text, path text,
    referrer text, site text, expiration_time bigint, screen text, source text, event text,
    props text)
), inserted AS (
  INSERT INTO visits (visit_id, timestamp, visitor, user_agent, path, referrer, site,
                      expiration_time, screen, source, event, props)
  SELECT visit_id, timestamp, visitor, user_agent, path, referrer, site, expiration_time, screen,
         source, event, props
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

// The second adds the batch's rollup to shard $4 of the aggregates and $5 page views to counter
// shard $4, and returns the total after. The rows come from ordered maps, so every batch locks rows in
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
  return ApplyMigrations(session, options.counter_shards);
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
  // Page views count one each; custom events are not counted (0).
  std::vector<int64_t> total_after(batch.size(), -1);  // -1: not inserted
  int inserted = 0;
  int64_t total = result->total;
  for (size_t i = batch.size(); i-- > 0;) {
    if (result->inserted.erase(batch[i].visit.visit_id) == 1) {
      ++inserted;
      total_after[i] = batch[i].visit.is_page_view() ? total-- : 0;
    }
  }
  CompleteBatch(batch, [&](size_t i) -> StatusOr<RecordedVisit> {
    if (total_after[i] < 0) return AlreadyExistsError("visit_id already stored");
    return RecordedVisit{total_after[i], inserted};
  });
}

StatusOr<PostgresStore::Committed> PostgresStore::TryCommit(
    const std::vector<PendingVisit>& batch, int shard) {
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
                    {"screen", v.screen},         {"source", v.source},
                    {"event", v.event},           {"props", EncodeProps(v.props)}});
    for (SeenKey& key : SeenKeys(v)) {  // what RollUp will ask about this visit
      auto [it, added] = key_numbers.emplace(std::move(key), keys.size());
      if (added) keys.push_back(it->first);
      candidates.push_back({{"n", it->second}, {"visit_id", v.visit_id}, {"day", it->first.day},
                            {"site", it->first.site}, {"path", it->first.path},
                            {"visitor", it->first.visitor}});
    }
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
                                   std::to_string(shard),
                                   std::to_string(std::count_if(
                                       visits.begin(), visits.end(),
                                       [](const Visit* v) { return v->is_page_view(); }))},
                                  "adding to the aggregates", time_left()));
    committed.total = Integer(added.get(), 0, 0);
    RETURN_IF_ERROR(session.Commit(time_left()));
    return committed;
  };
  StatusOr<Committed> committed = work();
  if (!committed.ok()) session.Rollback();
  return committed;
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

}  // namespace footfall::store::postgres
