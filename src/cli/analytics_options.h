// The analytics options `serve` and `lambda` share (goals, the distinct-value bound): declared
// once here so both commands take the same flags, variables and checks.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "base/status.h"
#include "core/service.h"

namespace footfall::cli {

struct AnalyticsConfig {
  std::string goals;             // FOOTFALL_GOALS: "event:signup,page:/thanks,page:/docs/*"
  int max_distinct_values = 1000;  // FOOTFALL_MAX_DISTINCT_VALUES
};

// Adds --goals and --max-distinct-values to `command`.
void AddAnalyticsOptions(CLI::App& command, AnalyticsConfig& config);

// Sets the service options `config` stands for. Errors: kInvalidArgument for a bad goal list
// (the message names the entry).
Status ApplyAnalyticsOptions(const AnalyticsConfig& config, core::ServiceOptions& options);

}  // namespace footfall::cli
