// PostgresStore: visits, the counter and the statistics in PostgreSQL, for several stateless
// footfall servers sharing one database. Same semantics as SQLite: group commit (one transaction
// per batch, a success only after COMMIT); the counter and the aggregates (hourly stats, page
// views, daily dimensions, "seen" visitors) change in the same transaction as the visit rows, and
// only for visits actually inserted (a duplicate visit_id adds nothing).
//
// No row is a lock hotspot across instances: each batch picks one random shard in
// [0, counter_shards) and adds to counter_shards(shard) and to aggregate rows keyed by that shard
// (`shard` is the last primary-key column of hourly_stats, page_views, daily_dimensions and
// daily_drops); reads sum over the shards. So the site-wide rows (path '') that every visit
// touches exist once per shard, and two batches wait for each other only when they drew the same
// shard. A key has at most counter_shards rows per hour or day; a quiet one has one. Drops are
// coalesced in memory, as on SQLite, and written by the writer thread in one statement per turn
// (a crash loses drop counts not written yet; no client was promised them).
// Connections: one for the writer thread (group commit) and one for the reader thread — two per
// instance, whatever the load. When PostgreSQL is down, calls fail fast with kUnavailable (a
// reconnect is tried at most every `reconnect_interval`), and the store recovers by itself. A
// server that stops answering costs a call a deadline, not a frozen thread: connecting ends within
// connect_timeout (kUnavailable), each statement within 6 s (kDeadlineExceeded; the connection is
// dropped), whether the server stops reading or stops answering (postgres_session.h).
//
// Schema changes are versioned migrations applied under a PostgreSQL advisory lock, so several
// instances starting at once do not race. Thread-safe; callbacks run on the store's threads.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "store/group_commit.h"
#include "store/pending_drops.h"
#include "store/store.h"
#include "store/worker_thread.h"

namespace footfall::store::postgres {

class Session;  // a connection that reconnects itself (postgres_session.h)

struct PostgresOptions {
  // libpq connection URI, e.g. postgres://user@host:5432/db?sslmode=disable. Required.
  std::string uri;
  // Counter rows, and shards of every aggregate row; more, less lock waiting between instances.
  // Default 16.
  int counter_shards = 16;
  // Most visits in one transaction. Default 1024.
  size_t max_batch = 1024;
  // Most visits waiting for the writer before RecordVisit fails fast. Default 65536.
  size_t max_queued_visits = 65536;
  // Least time between two reconnection attempts while the database is down. Default 250 ms.
  std::chrono::milliseconds reconnect_interval{250};
  // libpq connect_timeout in seconds (unless the URI sets one): the deadline of each connection
  // attempt as a whole (TCP, TLS, authentication, session setup), also where the URI's
  // connect_timeout is 0 (libpq: wait forever). Default 2.
  int connect_timeout_seconds = 2;
};

class PostgresStore final : public Store {
 public:
  // Connects, applies pending migrations (under an advisory lock) and starts the threads.
  // Errors: kInvalidArgument (malformed URI), kUnavailable (cannot connect: the message says why),
  // kFailedPrecondition (schema newer than this footfall), kInternal.
  static StatusOr<std::unique_ptr<PostgresStore>> Open(PostgresOptions options);
  // Commits every queued visit (or fails it, if the database is gone), then closes.
  ~PostgresStore() override;

  void RecordVisit(Visit visit, Deadline deadline, Callback<RecordedVisit> done) override;
  void ReadTotal(Deadline deadline, Callback<int64_t> done) override;
  void GetOrCreateDailySalt(int64_t day, Salt candidate, Deadline deadline,
                            Callback<Salt> done) override;
  // DELETEs the salts and seen marks, then rewrites the salts table (VACUUM FULL: a few rows;
  // the old file is truncated at commit), so the salt bytes leave the table's files. The server's
  // WAL keeps them until its segments are recycled (docs/design.md).
  void DeleteSaltsBefore(int64_t first_kept_day, Deadline deadline,
                         Callback<int64_t> done) override;
  void RecordDrop(std::string site, int64_t time_ms, std::string reason, Deadline deadline,
                  StatusCallback done) override;
  void QueryStats(StatsQuery query, Deadline deadline, Callback<Stats> done) override;
  void ReadPageViews(std::string site, std::string path, Deadline deadline,
                     Callback<int64_t> done) override;
  void ScanVisits(int64_t from_ms, int64_t to_ms, std::string cursor, int limit,
                  Deadline deadline, Callback<VisitPage> done) override;
  void PruneExpired(int64_t now_seconds, Deadline deadline, Callback<int64_t> done) override;
  void CheckReady(Deadline deadline, StatusCallback done) override;
  std::string Describe() const override;

  // Applies pending migrations and returns. Errors: as Open.
  static Status Migrate(const PostgresOptions& options);

 private:
  struct Committed;
  explicit PostgresStore(PostgresOptions options);
  // Commits `batch` in one transaction and completes its callbacks (on the writer thread).
  void CommitBatch(std::vector<PendingVisit>& batch);
  // Stores the batch's new visits and their aggregates in one transaction on `shard`.
  StatusOr<Committed> TryCommit(const std::vector<PendingVisit>& batch, int shard);
  // Writes the coalesced drop counts (a writer job).
  void FlushDrops();
  // Answers a stats query from the aggregates, summing the shards (on the reader thread).
  StatusOr<Stats> ReadStats(const StatsQuery& query);
  // Reads one page of raw visits in [from_ms, to_ms) after `cursor`, in visit_id order (on the
  // reader thread).
  StatusOr<VisitPage> ReadVisitPage(int64_t from_ms, int64_t to_ms, const std::string& cursor,
                                    int limit);

  const PostgresOptions options_;
  std::unique_ptr<Session> writer_session_;  // used on the writer thread only
  std::unique_ptr<Session> reader_session_;  // used on the reader thread only
  PendingDrops pending_drops_;
  std::unique_ptr<GroupCommitter> writer_;
  std::unique_ptr<WorkerThread> reader_;
};

}  // namespace footfall::store::postgres
