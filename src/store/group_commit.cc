#include "store/group_commit.h"

#include <algorithm>

#include "base/thread_name.h"

namespace footfall::store {

GroupCommitter::GroupCommitter(size_t max_batch, size_t max_queued, CommitFn commit)
    : max_batch_(std::max<size_t>(1, max_batch)),
      max_queued_(max_queued),
      commit_(std::move(commit)),
      thread_([this] {
        NameThisThread("ff-writer");
        Loop();
      }) {}

GroupCommitter::~GroupCommitter() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void GroupCommitter::Enqueue(Visit visit, Callback<RecordedVisit> done) {
  {
    std::lock_guard lock(mu_);
    if (queued_.size() < max_queued_) {
      queued_.push_back({std::move(visit), std::move(done), CallbackHome::OfThisThread()});
      done = nullptr;
    }
  }
  if (done) {
    done(ResourceExhaustedError("write queue is full"));  // outside the lock: callbacks may be slow
    return;
  }
  wake_.notify_one();
}

void GroupCommitter::Run(std::function<void()> job) {
  {
    std::lock_guard lock(mu_);
    jobs_.push_back(std::move(job));
  }
  wake_.notify_one();
}

void GroupCommitter::Loop() {
  std::vector<PendingVisit> batch;
  std::deque<std::function<void()>> jobs;
  std::unique_lock lock(mu_);
  while (true) {
    wake_.wait(lock, [&] { return stopping_ || !queued_.empty() || !jobs_.empty(); });
    if (queued_.empty() && jobs_.empty()) return;  // stopping, and everything is done
    jobs.swap(jobs_);
    const size_t take = std::min(queued_.size(), max_batch_);
    for (size_t i = 0; i < take; ++i) {
      batch.push_back(std::move(queued_.front()));
      queued_.pop_front();
    }
    lock.unlock();
    for (auto& job : jobs) job();
    jobs.clear();
    if (!batch.empty()) commit_(batch);
    batch.clear();
    lock.lock();
  }
}

void CompleteBatch(std::vector<PendingVisit>& batch,
                   const std::function<StatusOr<RecordedVisit>(size_t index)>& result_of) {
  // A visit goes home with its callback: its strings were allocated there, and freeing them there
  // is cheaper for the writer than freeing into another thread's malloc arena.
  struct ForOneHome {
    CallbackHome* home;
    std::vector<PendingVisit> visits;
    std::vector<StatusOr<RecordedVisit>> results;
  };
  std::vector<ForOneHome> by_home;  // a handful: one per event loop
  for (size_t i = 0; i < batch.size(); ++i) {
    PendingVisit& pending = batch[i];
    if (pending.home == nullptr) {
      pending.done(result_of(i));
      continue;
    }
    auto same_home = std::find_if(by_home.begin(), by_home.end(),
                                  [&](const ForOneHome& group) { return group.home == pending.home; });
    if (same_home == by_home.end()) same_home = by_home.insert(by_home.end(), {pending.home, {}, {}});
    same_home->results.push_back(result_of(i));
    same_home->visits.push_back(std::move(pending));
  }
  for (ForOneHome& group : by_home) {
    group.home->Post([visits = std::move(group.visits), results = std::move(group.results)]() mutable {
      for (size_t i = 0; i < visits.size(); ++i) visits[i].done(std::move(results[i]));
    });
  }
}

void CompleteCommittedBatch(std::vector<PendingVisit>& batch, int64_t total_after_batch) {
  const int size = static_cast<int>(batch.size());
  std::vector<int64_t> totals(batch.size());
  int64_t total = total_after_batch;
  for (size_t i = batch.size(); i-- > 0;) {
    if (!batch[i].visit.is_page_view()) continue;  // not counted: 0
    totals[i] = total--;
  }
  CompleteBatch(batch, [&](size_t index) { return RecordedVisit{totals[index], size}; });
}

void FailBatch(std::vector<PendingVisit>& batch, const Status& status) {
  CompleteBatch(batch, [&](size_t) { return status; });
}

}  // namespace footfall::store
