// GroupCommitter: the write side shared by the SQL engines. RecordVisit() calls are queued; one
// writer thread takes everything queued (up to max_batch) and hands it to the engine's commit
// function as one batch, which commits it in one transaction and then completes every callback.
// While a batch commits, new visits queue up and form the next one, so batches grow with load by
// themselves and no timer adds latency. Other write work (Run) executes on the same thread between
// batches. Thread-safe. Destruction commits everything still queued first.
// A visit's callback runs on the CallbackHome of the thread that enqueued it, if it has one (an
// event loop), else on the writer thread.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "base/callback_home.h"
#include "store/store.h"

namespace footfall::store {

struct PendingVisit {
  Visit visit;
  Callback<RecordedVisit> done;
  CallbackHome* home = nullptr;  // where `done` runs (CompleteBatch); null: where it completes
};

class GroupCommitter {
 public:
  // Called on the writer thread with a non-empty batch; must complete every visit's callback.
  using CommitFn = std::function<void(std::vector<PendingVisit>& batch)>;

  // `max_batch` >= 1 visits per commit; beyond `max_queued` waiting visits Enqueue fails fast
  // with kResourceExhausted (bounded memory and latency instead of an unbounded queue).
  GroupCommitter(size_t max_batch, size_t max_queued, CommitFn commit);
  ~GroupCommitter();
  GroupCommitter(const GroupCommitter&) = delete;
  GroupCommitter& operator=(const GroupCommitter&) = delete;

  // Queues a visit for the next batch.
  void Enqueue(Visit visit, Callback<RecordedVisit> done);
  // Runs `job` on the writer thread before the next batch.
  void Run(std::function<void()> job);

 private:
  void Loop();

  const size_t max_batch_;
  const size_t max_queued_;
  const CommitFn commit_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<PendingVisit> queued_;              // guarded by mu_
  std::deque<std::function<void()>> jobs_;       // guarded by mu_
  bool stopping_ = false;                        // guarded by mu_
  std::thread thread_;
};

// Completes every visit of `batch` (each once), visit i with result_of(i). Visits queued from the
// same CallbackHome go to it as one job, in batch order: one wake-up of each event loop per batch,
// however the loop and the writer interleave. Visits without a home complete here, now.
void CompleteBatch(std::vector<PendingVisit>& batch,
                   const std::function<StatusOr<RecordedVisit>(size_t index)>& result_of);

// Completes the callbacks of a committed batch whose page views took the counter to
// `total_after_batch`: each page view gets the counter value right after it in batch order, each
// custom event (not counted) 0, and everyone learns the batch size.
void CompleteCommittedBatch(std::vector<PendingVisit>& batch, int64_t total_after_batch);

// Completes every visit of a batch that failed as a whole with `status`.
void FailBatch(std::vector<PendingVisit>& batch, const Status& status);

}  // namespace footfall::store
