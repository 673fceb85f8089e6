// PostgresStore: visits and the counter in PostgreSQL, for several stateless footfall servers
// sharing one database. Same semantics as SQLite: group commit (one transaction per batch, a
// success only after COMMIT), the counter changes in the same transaction as the visit rows.
//
// The counter is sharded into rows counter_shards(shard, count): each batch adds to one random
// shard, so instances rarely wait on the same row lock; the total is the sum of all rows.
// Connections: one for the writer thread (group commit) and one for the reader thread — two per
// instance, whatever the load. When PostgreSQL is down, calls fail fast with kUnavailable (a
// reconnect is tried at most every `reconnect_interval`), and the store recovers by itself.
//
// Schema changes are versioned migrations applied under a PostgreSQL advisory lock, so several
// instances starting at once do not race. Thread-safe; callbacks run on the store's threads.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "store/group_commit.h"
#include "store/store.h"
#include "store/worker_thread.h"

namespace footfall::store::postgres {

struct PostgresOptions {
  // libpq connection URI, e.g. postgres://user@host:5432/db?sslmode=disable. Required.
  std::string uri;
  // Counter rows; more rows, less lock waiting between instances. Default 16.
  int counter_shards = 16;
  // Most visits in one transaction. Default 1024.
  size_t max_batch = 1024;
  // Most visits waiting for the writer before RecordVisit fails fast. Default 65536.
  size_t max_queued_visits = 65536;
  // Least time between two reconnection attempts while the database is down. Default 250 ms.
  std::chrono::milliseconds reconnect_interval{250};
  // libpq connect_timeout in seconds (unless the URI sets one). Default 2.
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
  // Aggregates are not kept by this engine yet: both fail with kUnimplemented.
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
  class Session;  // a connection that reconnects itself
  explicit PostgresStore(PostgresOptions options);
  void CommitBatch(std::vector<PendingVisit>& batch);

  const PostgresOptions options_;
  std::unique_ptr<Session> writer_session_;  // used on the writer thread only
  std::unique_ptr<Session> reader_session_;  // used on the reader thread only
  std::unique_ptr<GroupCommitter> writer_;
  std::unique_ptr<WorkerThread> reader_;
};

}  // namespace footfall::store::postgres
