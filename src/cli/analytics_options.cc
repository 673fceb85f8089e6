#include "cli/analytics_options.h"

namespace footfall::cli {

void AddAnalyticsOptions(CLI::App& command, AnalyticsConfig& config) {
  command
      .add_option("--goals", config.goals,
                  "Goals whose conversions /api/stats reports: a comma-separated list of "
                  "event:NAME (a custom event) and page:PATTERN (a page path; '*' matches any "
                  "run of characters), e.g. \"event:signup,page:/thanks,page:/docs/*\". A goal "
                  "counts from when it is configured")
      ->envname("FOOTFALL_GOALS");
  command
      .add_option("--max-distinct-values", config.max_distinct_values,
                  "Distinct values kept per site and UTC day for each event name list, each "
                  "event's property keys, each property and each campaign parameter; more are "
                  "counted as \"(other)\" and as the drop too_many_values (per process)")
      ->envname("FOOTFALL_MAX_DISTINCT_VALUES")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
}

Status ApplyAnalyticsOptions(const AnalyticsConfig& config, core::ServiceOptions& options) {
  StatusOr<core::Goals> goals = core::Goals::Parse(config.goals);
  if (!goals.ok()) return InvalidArgumentError("--goals: " + goals.status().message());
  options.goals = *std::move(goals);
  options.max_distinct_values = config.max_distinct_values;
  return OkStatus();
}

}  // namespace footfall::cli
