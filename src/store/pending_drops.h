// PendingDrops: drop counts coalesced in memory until an engine's writer thread writes them, so a
// flood of dropped requests (bots) costs one write per writer turn, not one each. Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <utility>

#include "store/stats_rollup.h"

namespace footfall::store {

class PendingDrops {
 public:
  using Key = std::tuple<std::string, int64_t, std::string>;  // site, UTC day, reason

  // Counts one drop for `site` on the UTC day of `time_ms`. Returns true when no write is
  // scheduled yet: the caller then schedules one (which calls Take).
  bool Add(std::string site, int64_t time_ms, std::string reason) {
    std::lock_guard lock(mu_);
    ++counts_[{std::move(site), DayOfHour(HourOf(time_ms)), std::move(reason)}];
    const bool schedule = !write_scheduled_;
    write_scheduled_ = true;
    return schedule;
  }

  // Returns the counts added since the last Take and forgets them; the next Add schedules again.
  std::map<Key, int64_t> Take() {
    std::map<Key, int64_t> counts;
    std::lock_guard lock(mu_);
    counts.swap(counts_);
    write_scheduled_ = false;
    return counts;
  }

 private:
  std::mutex mu_;
  std::map<Key, int64_t> counts_;  // guarded by mu_
  bool write_scheduled_ = false;   // guarded by mu_
};

}  // namespace footfall::store
