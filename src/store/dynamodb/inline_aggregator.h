// InlineAggregator: the aggregates of a store that writes them itself (no stream consumer,
// `aggregates=inline`). Each visit stored is handed to Add; one chunk is written at a time through
// the AggregateWriter, and the visits that arrive meanwhile make the next chunk, so a busy store
// writes each hour item once per chunk, not once per visit. What cannot be written is reported as
// drift (store/drift.h) with the visits' ids; the visits and the counter are stored either way.
// Thread-safe; `done` callbacks run on the DynamoDB client's thread.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "store/dynamodb/aggregate_writer.h"

namespace footfall::store::dynamodb {

class InlineAggregator : public std::enable_shared_from_this<InlineAggregator> {
 public:
  explicit InlineAggregator(std::shared_ptr<AggregateWriter> writer)
      : writer_(std::move(writer)) {}

  // Adds `visit` (stored by this store, once) to the aggregates; calls `done` when its chunk is
  // written or has failed (by the earliest deadline of the chunk's visits).
  void Add(Visit visit, Deadline deadline, std::function<void()> done);

 private:
  struct Waiting {
    Visit visit;
    Deadline deadline;
    std::function<void()> done;
  };
  void Flush();

  const std::shared_ptr<AggregateWriter> writer_;
  std::mutex mu_;
  std::vector<Waiting> waiting_;  // guarded by mu_
  bool busy_ = false;             // guarded by mu_: a chunk is being written
};

}  // namespace footfall::store::dynamodb
