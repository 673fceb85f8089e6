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
                   // Not applied from failed_at on: drift, reported with the visits' ids.
                   if (!applied.status.ok()) {
                     std::vector<std::string> short_of;
                     for (size_t i = applied.failed_at; i < batch->size(); ++i) {
                       short_of.push_back((*batch)[i].visit.visit_id);
                     }
                     ReportDrift(DriftKind::kAggregatesShort, short_of, applied.status);
                   }
                   for (Waiting& waiting : *batch) waiting.done();
                   self->Flush();
                 });
}

}  // namespace footfall::store::dynamodb
