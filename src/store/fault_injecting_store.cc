#include "store/fault_injecting_store.h"

namespace footfall::store {

void FaultInjectingStore::FailAll(Status status) {
  std::lock_guard lock(mu_);
  fault_ = std::move(status);
}

void FaultInjectingStore::Heal() {
  std::lock_guard lock(mu_);
  fault_.reset();
}

std::optional<Status> FaultInjectingStore::Fault() const {
  std::lock_guard lock(mu_);
  return fault_;
}

void FaultInjectingStore::RecordVisit(Visit visit, Deadline deadline,
                                      Callback<RecordedVisit> done) {
  if (auto fault = Fault()) return done(*fault);
  base().RecordVisit(std::move(visit), deadline, std::move(done));
}

void FaultInjectingStore::ReadTotal(Deadline deadline, Callback<int64_t> done) {
  if (auto fault = Fault()) return done(*fault);
  base().ReadTotal(deadline, std::move(done));
}

void FaultInjectingStore::GetOrCreateDailySalt(int64_t day, Salt candidate, Deadline deadline,
                                               Callback<Salt> done) {
  if (auto fault = Fault()) return done(*fault);
  base().GetOrCreateDailySalt(day, candidate, deadline, std::move(done));
}

void FaultInjectingStore::RecordDrop(std::string site, int64_t time_ms, std::string reason,
                                     Deadline deadline, StatusCallback done) {
  if (auto fault = Fault()) return done(*fault);
  base().RecordDrop(std::move(site), time_ms, std::move(reason), deadline, std::move(done));
}

void FaultInjectingStore::QueryStats(StatsQuery query, Deadline deadline, Callback<Stats> done) {
  if (auto fault = Fault()) return done(*fault);
  base().QueryStats(std::move(query), deadline, std::move(done));
}

void FaultInjectingStore::ReadPageViews(std::string site, std::string path, Deadline deadline,
                                        Callback<int64_t> done) {
  if (auto fault = Fault()) return done(*fault);
  base().ReadPageViews(std::move(site), std::move(path), deadline, std::move(done));
}

void FaultInjectingStore::ScanVisits(int64_t from_ms, int64_t to_ms, std::string cursor,
                                     int limit, Deadline deadline, Callback<VisitPage> done) {
  if (auto fault = Fault()) return done(*fault);
  base().ScanVisits(from_ms, to_ms, std::move(cursor), limit, deadline, std::move(done));
}

void FaultInjectingStore::PruneExpired(int64_t now_seconds, Deadline deadline,
                                       Callback<int64_t> done) {
  if (auto fault = Fault()) return done(*fault);
  base().PruneExpired(now_seconds, deadline, std::move(done));
}

void FaultInjectingStore::DeleteSaltsBefore(int64_t first_kept_day, Deadline deadline,
                                            Callback<int64_t> done) {
  if (auto fault = Fault()) return done(*fault);
  base().DeleteSaltsBefore(first_kept_day, deadline, std::move(done));
}

void FaultInjectingStore::CheckReady(Deadline deadline, StatusCallback done) {
  if (auto fault = Fault()) return done(*fault);
  base().CheckReady(deadline, std::move(done));
}

}  // namespace footfall::store
