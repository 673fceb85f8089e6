#include "store/instrumented_store.h"

#include <chrono>
#include <optional>

namespace footfall::store {
namespace {

constexpr const char* kOperationNames[] = {
    "record_visit", "read_total", "daily_salt", "record_drop", "query_stats",
    "read_page_views", "scan_visits", "prune", "delete_salts", "check_ready"};
static_assert(std::size(kOperationNames) == InstrumentedStore::kOperations);

}  // namespace

StatusOr<std::unique_ptr<InstrumentedStore>> InstrumentedStore::Create(Store& base,
                                                                       metrics::Registry& registry) {
  std::unique_ptr<InstrumentedStore> store(new InstrumentedStore(base));
  ASSIGN_OR_RETURN(metrics::Family<metrics::Counter>* operations,
                   registry.AddCounter("footfall_store_operations_total",
                                       "Store calls completed, by operation and result (ok, error).",
                                       {"operation", "result"}));
  ASSIGN_OR_RETURN(metrics::Family<metrics::Histogram>* durations,
                   registry.AddHistogram("footfall_store_duration_seconds",
                                         "Time from a store call to its completion, in seconds.",
                                         metrics::LatencyBuckets(), {"operation"}));
  ASSIGN_OR_RETURN(metrics::Family<metrics::Histogram>* batches,
                   registry.AddHistogram("footfall_group_commit_batch_size",
                                         "Visits committed in the same transaction as each recorded visit.",
                                         metrics::ExponentialBuckets(1, 2, 12)));
  ASSIGN_OR_RETURN(metrics::Family<metrics::Gauge>* ready,
                   registry.AddGauge("footfall_store_ready",
                                     "1 when the last store call reached the store, 0 after it was unavailable."));
  for (int op = 0; op < kOperations; ++op) {
    const metrics::Label operation{"operation", kOperationNames[op]};
    store->operations_[op].ok = &operations->WithLabels(operation, {"result", "ok"});
    store->operations_[op].error = &operations->WithLabels(operation, {"result", "error"});
    store->operations_[op].duration = &durations->WithLabels(operation);
  }
  store->batch_size_ = &batches->WithLabels();
  store->ready_ = &ready->WithLabels();
  store->ready_->Set(1);
  return store;
}

void InstrumentedStore::Record(Operation operation, std::chrono::steady_clock::time_point started,
                               const Status& status) {
  const OperationMetrics& m = operations_[operation];
  m.duration->Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  std::optional<bool> ready;
  if (status.ok() || status.code() == StatusCode::kAlreadyExists) {
    m.ok->Increment();
    ready = true;
  } else {
    m.error->Increment();
    const StatusCode code = status.code();
    if (code == StatusCode::kUnavailable || code == StatusCode::kDeadlineExceeded) ready = false;
  }
  if (!ready) return;
  const int64_t started_ns = started.time_since_epoch().count();
  if (*ready) {
    // A call that began before the store was last found unavailable says nothing about now.
    if (started_ns < unavailable_seen_ns_.load()) return;
  } else {
    int64_t seen = unavailable_seen_ns_.load();
    const int64_t now_ns = std::chrono::steady_clock::now().time_since_epoch().count();
    while (seen < now_ns && !unavailable_seen_ns_.compare_exchange_weak(seen, now_ns)) {
    }
  }
  ready_->Set(*ready ? 1 : 0);
  if (ready_state_.exchange(*ready) != *ready && on_readiness_) on_readiness_(*ready, status);
}

template <typename T>
Callback<T> InstrumentedStore::Measured(Operation operation, Callback<T> done) {
  return [this, operation, started = std::chrono::steady_clock::now(),
          done = std::move(done)](StatusOr<T> result) {
    Record(operation, started, result.status());
    done(std::move(result));
  };
}

StatusCallback InstrumentedStore::Measured(Operation operation, StatusCallback done) {
  return [this, operation, started = std::chrono::steady_clock::now(),
          done = std::move(done)](Status status) {
    Record(operation, started, status);
    done(std::move(status));
  };
}

void InstrumentedStore::RecordVisit(Visit visit, Deadline deadline, Callback<RecordedVisit> done) {
  base().RecordVisit(std::move(visit), deadline,
                    Measured<RecordedVisit>(kRecordVisit, [this, done = std::move(done)](
                                                              StatusOr<RecordedVisit> recorded) {
                      if (recorded.ok()) batch_size_->Observe(recorded->batch_size);
                      done(std::move(recorded));
                    }));
}

void InstrumentedStore::ReadTotal(Deadline deadline, Callback<int64_t> done) {
  base().ReadTotal(deadline, Measured<int64_t>(kReadTotal, std::move(done)));
}

void InstrumentedStore::GetOrCreateDailySalt(int64_t day, Salt candidate, Deadline deadline,
                                             Callback<Salt> done) {
  base().GetOrCreateDailySalt(day, candidate, deadline, Measured<Salt>(kDailySalt, std::move(done)));
}

void InstrumentedStore::RecordDrop(std::string site, int64_t time_ms, std::string reason,
                                   Deadline deadline, StatusCallback done) {
  base().RecordDrop(std::move(site), time_ms, std::move(reason), deadline,
                   Measured(kRecordDrop, std::move(done)));
}

void InstrumentedStore::QueryStats(StatsQuery query, Deadline deadline, Callback<Stats> done) {
  base().QueryStats(std::move(query), deadline, Measured<Stats>(kQueryStats, std::move(done)));
}

void InstrumentedStore::ReadPageViews(std::string site, std::string path, Deadline deadline,
                                      Callback<int64_t> done) {
  base().ReadPageViews(std::move(site), std::move(path), deadline,
                      Measured<int64_t>(kReadPageViews, std::move(done)));
}

void InstrumentedStore::ScanVisits(int64_t from_ms, int64_t to_ms, std::string cursor, int limit,
                                   Deadline deadline, Callback<VisitPage> done) {
  base().ScanVisits(from_ms, to_ms, std::move(cursor), limit, deadline,
                   Measured<VisitPage>(kScanVisits, std::move(done)));
}

void InstrumentedStore::PruneExpired(int64_t now_seconds, Deadline deadline,
                                     Callback<int64_t> done) {
  base().PruneExpired(now_seconds, deadline, Measured<int64_t>(kPrune, std::move(done)));
}

void InstrumentedStore::DeleteSaltsBefore(int64_t first_kept_day, Deadline deadline,
                                          Callback<int64_t> done) {
  base().DeleteSaltsBefore(first_kept_day, deadline,
                          Measured<int64_t>(kDeleteSalts, std::move(done)));
}

void InstrumentedStore::CheckReady(Deadline deadline, StatusCallback done) {
  base().CheckReady(deadline, Measured(kCheckReady, std::move(done)));
}

}  // namespace footfall::store
