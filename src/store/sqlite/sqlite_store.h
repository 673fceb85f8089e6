// SqliteStore: the embedded default Store, one SQLite file in WAL mode with synchronous=FULL.
//
// Group commit: RecordVisit() only queues. One writer thread takes every queued visit (up to
// max_batch), inserts them and adds their number to the counter in ONE transaction, waits for the
// commit to reach the disk, and only then completes their callbacks. So a success means the visit
// is durable, one fsync serves a whole batch, and a crash loses only visits not yet acknowledged.
// A duplicate visit_id fails alone inside its batch; the rest of the batch still commits once.
// Reads run on a separate reader thread with its own connection (WAL: readers never wait for the
// writer). All methods are thread-safe and never block the caller on disk I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "store/group_commit.h"
#include "store/pending_drops.h"
#include "store/sqlite/sqlite_handle.h"
#include "store/store.h"
#include "store/worker_thread.h"

namespace footfall::store::sqlite {

struct SqliteOptions {
  // Database file; its parent directory is created if missing. Required.
  std::string path;
  // Most visits committed in one transaction. Default 1024.
  size_t max_batch = 1024;
  // Most visits waiting for the writer; beyond it RecordVisit fails fast with
  // kResourceExhausted instead of letting memory and latency grow without bound. Default 65536.
  size_t max_queued_visits = 65536;
  // How long a connection waits for a lock held by another process. Default 5000 ms.
  int busy_timeout_ms = 5000;
};

class SqliteStore final : public Store {
 public:
  // Opens (creating if needed) the database and its schema, and starts the writer and reader
  // threads. Errors: kUnavailable (cannot create or open the file), kFailedPrecondition (the file
  // is not a footfall database or is from a newer version), kInternal.
  static StatusOr<std::unique_ptr<SqliteStore>> Open(SqliteOptions options);
  // The version of the SQLite library linked in, e.g. "3.40.1" (for `footfall --version`).
  static std::string LibraryVersion();
  // Commits every queued visit and completes every callback, then closes.
  ~SqliteStore() override;

  void RecordVisit(Visit visit, Deadline deadline, Callback<RecordedVisit> done) override;
  void ReadTotal(Deadline deadline, Callback<int64_t> done) override;
  void GetOrCreateDailySalt(int64_t day, Salt candidate, Deadline deadline,
                            Callback<Salt> done) override;
  // DELETEs the salts and seen marks (secure_delete is on: freed content is zeroed), then
  // checkpoints and truncates the WAL, so that no old frame of the salts page stays in a file.
  // kUnavailable when a reader kept the checkpoint from finishing: call again later.
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
  std::string Describe() const override { return "sqlite:" + options_.path; }

 private:
  explicit SqliteStore(SqliteOptions options);
  Status Start();
  // What one batch's transaction did.
  struct BatchOutcome {
    int64_t total = 0;  // the counter after the transaction (meaningful when stored > 0)
    int stored = 0;     // visits inserted
    int counted = 0;    // of them, page views (custom events do not move the counter)
    // Empty when every visit was stored; else one per visit of the batch, in order: OK if it was
    // stored, else why it alone was not (kAlreadyExists for a duplicate visit_id).
    std::vector<Status> rejected;
  };

  // Commits `batch` in one transaction and completes its callbacks (on the writer thread).
  void CommitBatch(std::vector<PendingVisit>& batch);
  // Adds `visits` to the aggregate tables (inside the open transaction).
  Status AddToAggregates(const std::vector<const Visit*>& visits);
  // Writes the coalesced drop counts (a writer job).
  void FlushDrops();
  // Runs `batch` as one transaction: inserts every visit, a visit whose insert breaks a constraint
  // (a duplicate visit_id) failing alone, then counts and aggregates the visits stored and commits
  // once (or rolls back if none was stored). Any other error rolls everything back and is returned.
  StatusOr<BatchOutcome> TryCommit(const std::vector<PendingVisit>& batch);

  const SqliteOptions options_;

  // Used only on the group committer's writer thread.
  Connection writer_db_;
  Statement insert_visit_;
  Statement add_to_total_;
  Statement mark_seen_, add_hour_, add_day_, add_page_views_, add_dimension_, add_drop_;
  Statement begin_, commit_, rollback_;

  PendingDrops pending_drops_;

  std::unique_ptr<GroupCommitter> writer_;
  // Used only on the reader thread.
  Connection reader_db_;
  std::unique_ptr<WorkerThread> reader_;
};

}  // namespace footfall::store::sqlite
