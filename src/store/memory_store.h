// MemoryStore: a Store kept in process memory, for tests and `--store memory:`. Nothing survives
// the process. Calls complete synchronously, on the caller's thread. Thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <set>
#include <tuple>
#include <string>
#include <unordered_set>
#include <vector>

#include "store/stats_rollup.h"
#include "store/store.h"

namespace footfall::store {

class MemoryStore final : public Store {
 public:
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
  std::string Describe() const override { return "memory:"; }

  // A copy of every stored visit, oldest first. For tests.
  std::vector<Visit> Visits() const;
  // The days that currently have a salt. For tests.
  std::vector<int64_t> SaltDays() const;

 private:
  int64_t DeleteSaltsBeforeLocked(int64_t first_kept_day);  // requires mu_
  mutable std::mutex mu_;
  std::vector<Visit> visits_;
  std::unordered_set<std::string> visit_ids_;
  int64_t total_ = 0;
  std::map<int64_t, Salt> salts_;
  // Aggregates, as the SQL engines keep them.
  std::map<HourKey, HourDelta> hours_;
  std::map<std::pair<std::string, std::string>, int64_t> page_views_;  // (site, path)
  std::map<DimensionKey, int64_t> dimensions_;
  std::map<std::tuple<std::string, int64_t, std::string>, int64_t> drops_;  // site, day, reason
  std::set<std::tuple<int64_t, std::string, std::string, std::string>> seen_;
};

}  // namespace footfall::store
