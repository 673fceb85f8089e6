#include "store/memory_store.h"

#include <algorithm>

namespace footfall::store {

void MemoryStore::RecordVisit(Visit visit, Deadline, Callback<RecordedVisit> done) {
  RecordedVisit recorded;
  {
    std::lock_guard lock(mu_);
    if (!visit_ids_.insert(visit.visit_id).second) {
      done(AlreadyExistsError("visit_id already stored"));
      return;
    }
    const Rollup rollup = RollUp({&visit}, [this](int64_t day, const std::string& site,
                                                  const std::string& path,
                                                  const std::string& visitor) {
      return seen_.emplace(day, site, path, visitor).second;
    });
    for (const auto& [key, views] : rollup.page_views) page_views_[key] += views;
    for (const auto& [key, delta] : rollup.hours) {
      hours_[key].views += delta.views;
      hours_[key].new_visitors += delta.new_visitors;
    }
    for (const auto& [key, views] : rollup.dimensions) dimensions_[key] += views;
    if (visit.is_page_view()) recorded.total = ++total_;
    visits_.push_back(std::move(visit));
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
    DeleteSaltsBeforeLocked(day - 1);
    salt = salts_.emplace(day, candidate).first->second;
  }
  done(salt);
}

int64_t MemoryStore::DeleteSaltsBeforeLocked(int64_t first_kept_day) {
  const auto first_kept = salts_.lower_bound(first_kept_day);
  const auto deleted = static_cast<int64_t>(std::distance(salts_.begin(), first_kept));
  salts_.erase(salts_.begin(), first_kept);
  // "Seen" markers only dedupe the current day; they go with the salt that made them.
  std::erase_if(seen_, [&](const auto& seen) { return std::get<0>(seen) < first_kept_day; });
  return deleted;
}

void MemoryStore::DeleteSaltsBefore(int64_t first_kept_day, Deadline, Callback<int64_t> done) {
  int64_t deleted = 0;
  {
    std::lock_guard lock(mu_);
    deleted = DeleteSaltsBeforeLocked(first_kept_day);
  }
  done(deleted);
}

void MemoryStore::RecordDrop(std::string site, int64_t time_ms, std::string reason, Deadline,
                             StatusCallback done) {
  {
    std::lock_guard lock(mu_);
    ++drops_[{std::move(site), DayOfHour(HourOf(time_ms)), std::move(reason)}];
  }
  done(OkStatus());
}

void MemoryStore::QueryStats(StatsQuery query, Deadline, Callback<Stats> done) {
  if (Status valid = ValidateStatsQuery(query); !valid.ok()) return done(valid);
  const int64_t first = FirstHour(query), end = EndHour(query);
  const int64_t first_day = DayOfHour(first), last_day = DayOfHour(end - 1);
  StatsRows rows;
  {
    std::lock_guard lock(mu_);
    std::map<std::string, NamedCount> paths;
    for (const auto& [key, delta] : hours_) {
      const auto& [site, hour, path] = key;
      if (site != query.site || hour < first || hour >= end) continue;
      if (path == query.path) {
        const int64_t bucket = query.interval == Interval::kHour ? hour : DayOfHour(hour);
        rows.buckets[bucket].views += delta.views;
        rows.buckets[bucket].new_visitors += delta.new_visitors;
        rows.daily_new[DayOfHour(hour)] += delta.new_visitors;
      }
      if (!path.empty()) {
        NamedCount& entry = paths[path];
        entry.name = path;
        entry.views += delta.views;
        entry.visitor_days += delta.new_visitors;
      }
    }
    for (auto& [path, entry] : paths) rows.paths.push_back(std::move(entry));
    std::map<std::pair<std::string, std::string>, int64_t> dimensions;
    for (const auto& [key, views] : dimensions_) {
      const auto& [site, day, kind, value] = key;
      if (site == query.site && day >= first_day && day <= last_day) dimensions[{kind, value}] += views;
    }
    for (const auto& [kind_value, views] : dimensions) {
      rows.dimensions[kind_value.first].push_back({kind_value.second, views, 0});
    }
    std::map<std::string, int64_t> drops;
    for (const auto& [key, count] : drops_) {
      const auto& [site, day, reason] = key;
      if (site == query.site && day >= first_day && day <= last_day) drops[reason] += count;
    }
    for (const auto& [reason, count] : drops) rows.drops.push_back({reason, count, 0});
  }
  done(BuildStats(query, std::move(rows)));
}

void MemoryStore::ReadPageViews(std::string site, std::string path, Deadline,
                                Callback<int64_t> done) {
  int64_t views = 0;
  {
    std::lock_guard lock(mu_);
    auto it = page_views_.find({site, path});
    if (it != page_views_.end()) views = it->second;
  }
  done(views);
}

void MemoryStore::ScanVisits(int64_t from_ms, int64_t to_ms, std::string cursor, int limit,
                             Deadline, Callback<VisitPage> done) {
  if (limit < 1 || limit > kMaxScanLimit) return done(InvalidArgumentError("bad scan limit"));
  VisitPage page;
  {
    std::lock_guard lock(mu_);
    for (const Visit& visit : visits_) {
      if (visit.time_ms >= from_ms && visit.time_ms < to_ms && visit.visit_id > cursor) {
        page.visits.push_back(visit);
      }
    }
  }
  std::sort(page.visits.begin(), page.visits.end(),
            [](const Visit& a, const Visit& b) { return a.visit_id < b.visit_id; });
  if (page.visits.size() > static_cast<size_t>(limit)) {
    page.visits.resize(static_cast<size_t>(limit));
    page.next_cursor = page.visits.back().visit_id;
  }
  for (Visit& visit : page.visits) visit.browser = visit.os = visit.device = "";
  done(std::move(page));
}

void MemoryStore::PruneExpired(int64_t now_seconds, Deadline, Callback<int64_t> done) {
  int64_t deleted = 0;
  {
    std::lock_guard lock(mu_);
    deleted = static_cast<int64_t>(std::erase_if(visits_, [&](const Visit& visit) {
      const bool expired = visit.expiration_time < now_seconds;
      if (expired) visit_ids_.erase(visit.visit_id);
      return expired;
    }));
  }
  done(deleted);
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
