// InstrumentedStore: forwards every call to another Store (a ForwardingStore) and records, in a
// metrics::Registry, how each operation went (footfall_store_operations_total{operation,result}),
// how long it took (footfall_store_duration_seconds{operation}), the group-commit batch sizes
// (footfall_group_commit_batch_size) and whether the store answers (footfall_store_ready: 0
// after a call failed as unavailable, 1 after a call that began later succeeded), and tells a
// listener when that readiness changes (so an outage is one log line when it starts and one when
// it ends, not a line per failed call). Thread-safe; the wrapped store and the registry must
// outlive it.
#pragma once

#include <array>
#include <atomic>
#include <functional>
#include <string>

#include "metrics/registry.h"
#include "store/forwarding_store.h"

namespace footfall::store {

class InstrumentedStore final : public ForwardingStore {
 public:
  // Errors: kAlreadyExists when the registry already has these metrics.
  static StatusOr<std::unique_ptr<InstrumentedStore>> Create(Store& base,
                                                             metrics::Registry& registry);

  void RecordVisit(Visit visit, Deadline deadline, Callback<RecordedVisit> done) override;
  void ReadTotal(Deadline deadline, Callback<int64_t> done) override;
  void GetOrCreateDailySalt(int64_t day, Salt candidate, Deadline deadline,
                            Callback<Salt> done) override;
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

  // Called once per change of readiness (false: a call failed as unavailable or past its
  // deadline, `cause` says how; true: a call succeeded again), from the thread that completed the
  // call. Set it before the store is used.
  using ReadinessListener = std::function<void(bool ready, const Status& cause)>;
  void SetReadinessListener(ReadinessListener listener) { on_readiness_ = std::move(listener); }

  enum Operation {
    kRecordVisit, kReadTotal, kDailySalt, kRecordDrop, kQueryStats, kReadPageViews, kScanVisits,
    kPrune, kDeleteSalts, kCheckReady, kOperations
  };

 private:
  struct OperationMetrics {
    metrics::Counter* ok = nullptr;
    metrics::Counter* error = nullptr;
    metrics::Histogram* duration = nullptr;
  };
  explicit InstrumentedStore(Store& base) : ForwardingStore(base) {}
  // Wraps `done` so that it records the outcome of `operation` started now.
  template <typename T>
  Callback<T> Measured(Operation operation, Callback<T> done);
  StatusCallback Measured(Operation operation, StatusCallback done);
  void Record(Operation operation, std::chrono::steady_clock::time_point started,
              const Status& status);

  std::array<OperationMetrics, kOperations> operations_{};
  metrics::Histogram* batch_size_ = nullptr;
  metrics::Gauge* ready_ = nullptr;
  std::atomic<bool> ready_state_{true};
  std::atomic<int64_t> unavailable_seen_ns_{0};  // steady clock, when a call last failed so
  ReadinessListener on_readiness_;
};

}  // namespace footfall::store
