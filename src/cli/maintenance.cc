#include "cli/maintenance.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <future>
#include <utility>

namespace footfall::cli {

std::chrono::seconds UntilNextMaintenance(TimePoint now) {
  using std::chrono::seconds;
  constexpr int64_t kDay = 86'400;
  const int64_t now_s = std::chrono::duration_cast<seconds>(now.time_since_epoch()).count();
  const int64_t into_day = ((now_s % kDay) + kDay) % kDay;
  const seconds after_midnight{kDay - into_day + 30};
  return std::min(seconds(std::chrono::hours(1)), after_midnight);
}

std::string MaintenanceLine(const core::MaintenanceReport& report) {
  const bool ok = report.salts_deleted.ok() && report.visits_pruned.ok();
  nlohmann::ordered_json line = {{"level", ok ? "info" : "warn"}, {"msg", "maintenance"}};
  auto step = [&line](const char* name, const StatusOr<int64_t>& outcome) {
    if (outcome.ok()) {
      line[name] = *outcome;
    } else {
      line[std::string(name) + "_error"] = outcome.status().ToString();
    }
  };
  step("salts_deleted", report.salts_deleted);
  step("visits_pruned", report.visits_pruned);
  return line.dump();
}

core::MaintenanceReport RunMaintenanceAndWait(core::Service& service) {
  std::promise<core::MaintenanceReport> promise;
  service.Maintain(store::kNoDeadline, [&promise](core::MaintenanceReport report) {
    promise.set_value(std::move(report));
  });
  return promise.get_future().get();
}

}  // namespace footfall::cli
