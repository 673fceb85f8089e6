#include "store/memory_store.h"

namespace footfall::store {

void MemoryStore::RecordVisit(Visit visit, Deadline, Callback<RecordedVisit> done) {
  RecordedVisit recorded;
  {
    std::lock_guard lock(mu_);
    if (!visit_ids_.insert(visit.visit_id).second) {
      done(AlreadyExistsError("visit_id already stored"));
      return;
    }
    visits_.push_back(std::move(visit));
    recorded.total = ++total_;
  }
  done(recorded);
}

void MemoryStore::ReadTotal(Deadline, Callback<int64_t> done) {
  int64_t total;
  {
    std::lock_guard lock(mu_);
    total = total_;
  }
  done(total);
}

void MemoryStore::GetOrCreateDailySalt(int64_t day, Salt candidate, Deadline,
                                       Callback<Salt> done) {
  Salt salt;
  {
    std::lock_guard lock(mu_);
    salts_.erase(salts_.begin(), salts_.lower_bound(day - 1));
    salt = salts_.emplace(day, candidate).first->second;
  }
  done(salt);
}

void MemoryStore::CheckReady(Deadline, StatusCallback done) { done(OkStatus()); }

std::vector<Visit> MemoryStore::Visits() const {
  std::lock_guard lock(mu_);
  return visits_;
}

std::vector<int64_t> MemoryStore::SaltDays() const {
  std::lock_guard lock(mu_);
  std::vector<int64_t> days;
  for (const auto& [day, salt] : salts_) days.push_back(day);
  return days;
}

}  // namespace footfall::store
