// ForwardingStore: a Store that passes every call on to another one, unchanged. The base of the
// Store decorators (InstrumentedStore, FaultInjectingStore, a test's store that fails one call):
// each overrides only what it changes, as leveldb's EnvWrapper does, and a method added to Store
// reaches the wrapped engine through every decorator that does not care about it.
// Thread-safety and callback threads: those of the wrapped store. `base` must outlive this one.
#pragma once

#include <string>
#include <utility>

#include "store/store.h"

namespace footfall::store {

class ForwardingStore : public Store {
 public:
  explicit ForwardingStore(Store& base) : base_(base) {}

  void RecordVisit(Visit visit, Deadline deadline, Callback<RecordedVisit> done) override {
    base_.RecordVisit(std::move(visit), deadline, std::move(done));
  }
  void ReadTotal(Deadline deadline, Callback<int64_t> done) override {
    base_.ReadTotal(deadline, std::move(done));
  }
  void GetOrCreateDailySalt(int64_t day, Salt candidate, Deadline deadline,
                            Callback<Salt> done) override {
    base_.GetOrCreateDailySalt(day, candidate, deadline, std::move(done));
  }
  void DeleteSaltsBefore(int64_t first_kept_day, Deadline deadline,
                         Callback<int64_t> done) override {
    base_.DeleteSaltsBefore(first_kept_day, deadline, std::move(done));
  }
  void RecordDrop(std::string site, int64_t time_ms, std::string reason, Deadline deadline,
                  StatusCallback done) override {
    base_.RecordDrop(std::move(site), time_ms, std::move(reason), deadline, std::move(done));
  }
  void QueryStats(StatsQuery query, Deadline deadline, Callback<Stats> done) override {
    base_.QueryStats(std::move(query), deadline, std::move(done));
  }
  void ReadPageViews(std::string site, std::string path, Deadline deadline,
                     Callback<int64_t> done) override {
    base_.ReadPageViews(std::move(site), std::move(path), deadline, std::move(done));
  }
  void ScanVisits(int64_t from_ms, int64_t to_ms, std::string cursor, int limit,
                  Deadline deadline, Callback<VisitPage> done) override {
    base_.ScanVisits(from_ms, to_ms, std::move(cursor), limit, deadline, std::move(done));
  }
  void PruneExpired(int64_t now_seconds, Deadline deadline, Callback<int64_t> done) override {
    base_.PruneExpired(now_seconds, deadline, std::move(done));
  }
  void CheckReady(Deadline deadline, StatusCallback done) override {
    base_.CheckReady(deadline, std::move(done));
  }
  std::string Describe() const override { return base_.Describe(); }

 protected:
  Store& base() const { return base_; }

 private:
  Store& base_;
};

}  // namespace footfall::store
