// FaultInjectingStore: forwards to another Store (a ForwardingStore), except that calls can be
// made to fail with a chosen Status: the way tests drive store failures through the request path.
// Thread-safe; the wrapped store must outlive this one.
#pragma once

#include <mutex>
#include <optional>

#include "store/forwarding_store.h"

namespace footfall::store {

class FaultInjectingStore final : public ForwardingStore {
 public:
  explicit FaultInjectingStore(Store& base) : ForwardingStore(base) {}

  // From now on every call fails with `status` (nothing reaches the wrapped store).
  void FailAll(Status status);
  // Calls reach the wrapped store again.
  void Heal();

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
  std::string Describe() const override { return "faulty(" + base().Describe() + ")"; }

 private:
  std::optional<Status> Fault() const;

  mutable std::mutex mu_;
  std::optional<Status> fault_;
};

}  // namespace footfall::store
