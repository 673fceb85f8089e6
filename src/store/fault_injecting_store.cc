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

void FaultInjectingStore::RecordVisit(Visit visit, Callback<RecordedVisit> done) {
  if (auto fault = Fault()) return done(*fault);
  base_.RecordVisit(std::move(visit), std::move(done));
}

void FaultInjectingStore::ReadTotal(Callback<int64_t> done) {
  if (auto fault = Fault()) return done(*fault);
  base_.ReadTotal(std::move(done));
}

void FaultInjectingStore::GetOrCreateDailySalt(int64_t day, Salt candidate, Callback<Salt> done) {
  if (auto fault = Fault()) return done(*fault);
  base_.GetOrCreateDailySalt(day, candidate, std::move(done));
}

void FaultInjectingStore::CheckReady(StatusCallback done) {
  if (auto fault = Fault()) return done(*fault);
  base_.CheckReady(std::move(done));
}

}  // namespace footfall::store
