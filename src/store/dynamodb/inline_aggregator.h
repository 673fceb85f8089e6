// InlineAggregator: the aggregates of a store that writes them itself (no stream consumer,
// `aggregates=inline`). Each visit stored is handed to Add; one chunk is written at a time through
// the AggregateWriter, and the visits that arrive meanwhile make the next chunk, so a busy store
// writes each hour item once per chunk, not once per visit. What cannot be written in time is
// tried again in the background (a slow or throttled table catches up), and what still cannot is
// reported as drift (store/drift.h) with the visits' ids; the visits and the counter are stored
// either way.
// Thread-safe; `done` callbacks run on the DynamoDB client's thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "store/dynamodb/aggregate_writer.h"

namespace footfall::store::dynamodb {

class InlineAggregator : public std::enable_shared_from_this<InlineAggregator> {
 public:
  // `hold` is called for each background retry and returns what to call when it is over: the
  // store keeps its HTTP client alive (and its destructor waits) in between.
  using Hold = std::function<std::function<void()>()>;
  InlineAggregator(std::shared_ptr<AggregateWriter> writer, Hold hold)
      : writer_(std::move(writer)), hold_(std::move(hold)) {}

  // Adds `visit` (stored by this store, once) to the aggregates; calls `done` when its chunk is
  // written or has failed (by the earliest deadline of the chunk's visits). Visits whose chunk
  // failed are tried again in the background, in order and at the head of the next chunk (the
  // markers make a repeat of what did land harmless), up to kAttempts times with kRetryBudget
  // each; only then are they reported as drift.
  void Add(Visit visit, Deadline deadline, std::function<void()> done);

  static constexpr int kAttempts = 3;
  static constexpr std::chrono::seconds kRetryBudget{30};

 private:
  struct Waiting {
    Visit visit;
    Deadline deadline;
    std::function<void()> done;
    int attempt = 1;
  };
  void Flush();

  const std::shared_ptr<AggregateWriter> writer_;
  const Hold hold_;
  std::mutex mu_;
  std::vector<Waiting> waiting_;  // guarded by mu_
  bool busy_ = false;             // guarded by mu_: a chunk is being written
};

}  // namespace footfall::store::dynamodb
