#include "store/dynamodb/inline_aggregator.h"

#include <algorithm>
#include <string>

#include "store/drift.h"

namespace footfall::store::dynamodb {

void InlineAggregator::Add(Visit visit, Deadline deadline, std::function<void()> done) {
  {
    std::lock_guard lock(mu_);
    waiting_.push_back({std::move(visit), deadline, std::move(done)});
    if (busy_) return;
    busy_ = true;
  }
  Flush();
}

void InlineAggregator::Flush() {
  auto batch = std::make_shared<std::vector<Waiting>>();
  {
    std::lock_guard lock(mu_);
    batch->swap(waiting_);
    if (batch->empty()) {
      busy_ = false;
      return;
    }
  }
  std::vector<StreamRecord> records;
  Deadline deadline = kNoDeadline;
  for (const Waiting& waiting : *batch) {
    StreamRecord record;
    record.kind = StreamRecord::Kind::kVisit;
    record.visit = waiting.visit;
    records.push_back(std::move(record));
    deadline = std::min(deadline, waiting.deadline);
  }
  writer_->Apply(std::move(records), deadline,
                 [self = shared_from_this(), batch](ApplyResult applied) {
                   // Not applied from failed_at on: again in the background, else drift.
                   std::vector<Waiting> again;
                   if (!applied.status.ok()) {
                     std::vector<std::string> short_of;
                     for (size_t i = applied.failed_at; i < batch->size(); ++i) {
                       Waiting& waiting = (*batch)[i];
                       if (waiting.attempt >= kAttempts) {
                         short_of.push_back(waiting.visit.visit_id);
                         continue;
                       }
                       again.push_back({waiting.visit, std::chrono::steady_clock::now() + kRetryBudget,
                                        self->hold_(), waiting.attempt + 1});
                     }
                     if (!short_of.empty()) {
                       ReportDrift(DriftKind::kAggregatesShort, short_of, applied.status);
                     }
                   }
                   for (Waiting& waiting : *batch) waiting.done();
                   if (!again.empty()) {
                     std::lock_guard lock(self->mu_);
                     self->waiting_.insert(self->waiting_.begin(),
                                           std::make_move_iterator(again.begin()),
                                           std::make_move_iterator(again.end()));
                   }
                   self->Flush();
                 });
}

}  // namespace footfall::store::dynamodb
