// `footfall lambda` (also what the packaged `bootstrap` runs): footfall as an AWS Lambda custom
// runtime behind API Gateway. Configuration comes from the environment Lambda sets (flags exist for
// local runs). Not thread-safe; called once from main.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "cli/analytics_options.h"

namespace footfall::cli {

struct LambdaConfig {
  std::string runtime_api;      // AWS_LAMBDA_RUNTIME_API
  std::string store;            // FOOTFALL_STORE, else dynamodb://$DYNAMODB_TABLE
  std::string allowed_origins;  // FOOTFALL_ALLOWED_ORIGINS, else ALLOWED_ORIGIN
  std::string default_site;     // FOOTFALL_DEFAULT_SITE
  int retention_days = 90;      // FOOTFALL_RETENTION_DAYS
  std::string log_level = "info";  // FOOTFALL_LOG_LEVEL: info (a line per invocation) or warn
  std::string metrics = "emf";     // FOOTFALL_METRICS: emf (EMF directive) or log (metric filters)
  // FOOTFALL_STATS_TOKEN_PARAMETER: the SSM parameter (SecureString) holding the statistics
  // token, read once at init. "" with stats_public false: statistics off.
  std::string stats_token_parameter;
  bool stats_public = false;    // FOOTFALL_STATS_PUBLIC
  bool drop_http_libraries = false;  // FOOTFALL_DROP_HTTP_LIBRARIES
  AnalyticsConfig analytics;
};

// Adds the `lambda` subcommand; `config` receives the values (defaults read from the seed's
// DYNAMODB_TABLE and ALLOWED_ORIGIN variables).
CLI::App* AddLambdaCommand(CLI::App& app, LambdaConfig& config);

// Runs the Runtime API loop. Start-up failures are posted to /runtime/init/error. Returns the
// process exit code.
int RunLambda(const LambdaConfig& config);

}  // namespace footfall::cli
