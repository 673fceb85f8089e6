#include "cli/lambda_command.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <future>
#include <optional>
#include <thread>

#include <nlohmann/json.hpp>

#include "aws/ssm_parameter.h"
#include "base/clock.h"
#include "base/random.h"
#include "cli/option_values.h"
#include "core/service.h"
#include "core/user_agent.h"
#include "lambda/api_gateway_event.h"
#include "lambda/lambda_runtime.h"
#include "lambda/runtime_client.h"
#include "store/drift.h"
#include "store/dynamodb/dynamodb_store.h"
#include "store/open_store.h"

namespace footfall::cli {
namespace {

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

// Lambda keeps stdout lines as log events; written directly (no buffering thread) so nothing is
// pending when Lambda freezes the process between invocations.
void WriteLine(const std::string& line) {
  std::string out = line + "\n";
  size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::write(1, out.data() + done, out.size() - done);
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

// Applies a Lambda event of DynamoDB stream records through the store; nullopt when the event is
// not one.
std::optional<lambda::StreamBatchOutcome> ApplyStreamEvent(
    store::dynamodb::DynamoDbStore& dynamodb, const std::string& event,
    std::chrono::steady_clock::time_point deadline) {
  StatusOr<std::vector<store::dynamodb::StreamRecord>> records =
      store::dynamodb::ParseStreamEvent(event);
  if (records.status().code() == StatusCode::kNotFound) return std::nullopt;
  lambda::StreamBatchOutcome outcome;
  if (!records.ok()) {
    outcome.status = records.status();
    return outcome;
  }
  std::promise<store::dynamodb::ApplyResult> applied;
  dynamodb.ApplyStreamRecords(*std::move(records), deadline,
                              [&applied](store::dynamodb::ApplyResult result) {
                                applied.set_value(std::move(result));
                              });
  store::dynamodb::ApplyResult result = applied.get_future().get();
  outcome.status = result.status;
  outcome.visits_applied = result.visits_applied;
  outcome.visits_already_applied = result.visits_already_applied;
  outcome.records_skipped = result.poison;
  outcome.not_visits = result.not_visits;
  outcome.problems = std::move(result.poison_problems);
  outcome.write_units = result.write_units;
  outcome.read_units = result.read_units;
  return outcome;
}

// The statistics token from SSM Parameter Store ("" when there is no parameter name). Any
// failure leaves statistics off and says so once: the counter must work whatever happens to SSM
// (a transient failure is over when Lambda starts a new execution environment).
std::string ReadStatsToken(const std::string& parameter) {
  if (parameter.empty()) return "";
  aws::SsmParameterOptions options;
  options.region = Env("AWS_REGION").empty() ? Env("AWS_DEFAULT_REGION") : Env("AWS_REGION");
  options.ca_file = Env("FOOTFALL_CA_FILE").empty() ? Env("SSL_CERT_FILE") : Env("FOOTFALL_CA_FILE");
  StatusOr<std::string> token = aws::ReadSsmParameter(parameter, std::move(options));
  if (token.ok()) return *std::move(token);
  const bool missing = token.status().code() == StatusCode::kNotFound;
  nlohmann::ordered_json line = {
      {"level", missing ? "warn" : "error"},
      {"msg", missing ? "statistics are off: the stats token parameter does not exist"
                      : "statistics are off: the stats token parameter cannot be read"},
      {"parameter", parameter},
      {"error", token.status().ToString()}};
  WriteLine(line.dump());
  return "";
}

}  // namespace

CLI::App* AddLambdaCommand(CLI::App& app, LambdaConfig& config) {
  CLI::App* lambda = app.add_subcommand(
      "lambda",
      "Run as an AWS Lambda custom runtime (provided.al2023): behind API Gateway, and as the "
      "consumer of the table's DynamoDB stream that writes the statistics aggregates (the same "
      "binary, told apart by the event). The packaged 'bootstrap' runs this.");
  if (!Env("DYNAMODB_TABLE").empty()) config.store = "dynamodb://" + Env("DYNAMODB_TABLE");
  config.allowed_origins = Env("ALLOWED_ORIGIN");
  lambda->add_option("--runtime-api", config.runtime_api, "Lambda Runtime API host:port")
      ->envname("AWS_LAMBDA_RUNTIME_API");
  lambda->add_option("--store", config.store,
                     "Store URI (default: dynamodb://$DYNAMODB_TABLE, region from AWS_REGION)")
      ->envname("FOOTFALL_STORE");
  lambda->add_option("--allowed-origins", config.allowed_origins,
                     "Comma-separated origins allowed by CORS (also ALLOWED_ORIGIN)")
      ->envname("FOOTFALL_ALLOWED_ORIGINS");
  lambda->add_option("--default-site", config.default_site,
                     "Site recorded for visits without an Origin header")
      ->envname("FOOTFALL_DEFAULT_SITE");
  lambda->add_option("--retention-days", config.retention_days, "Days a visit is kept")
      ->envname("FOOTFALL_RETENTION_DAYS")
      ->check(CLI::Range(1, 36500))
      ->capture_default_str();
  lambda->add_option("--stats-token-parameter", config.stats_token_parameter,
                     "SSM Parameter Store parameter (a SecureString) holding the bearer token "
                     "GET /api/stats and /dashboard require; read once when the function starts. "
                     "Unset or missing: statistics are off unless --stats-public")
      ->envname("FOOTFALL_STATS_TOKEN_PARAMETER");
  lambda->add_option("--stats-public", config.stats_public,
                     "Serve /api/stats and /dashboard without a token (true/false)")
      ->envname("FOOTFALL_STATS_PUBLIC")
      ->capture_default_str();
  lambda->add_option("--drop-http-libraries", config.drop_http_libraries,
                     "Do not record requests from HTTP libraries (curl, python-requests...) or "
                     "without a User-Agent; by default they count as device non_browser "
                     "(true/false)")
      ->envname("FOOTFALL_DROP_HTTP_LIBRARIES")
      ->capture_default_str();
  AddAnalyticsOptions(*lambda, config.analytics);
  lambda->add_option("--log-level", config.log_level,
                     "info: one JSON/EMF line per invocation; warn: only failed ones")
      ->envname("FOOTFALL_LOG_LEVEL")
      ->check(CLI::IsMember({"info", "warn"}))
      ->capture_default_str();
  lambda->add_option("--metrics", config.metrics,
                     "emf: each line declares its metrics (CloudWatch Embedded Metric Format, no "
                     "setup); log: the same values without the declaration, for CloudWatch metric "
                     "filters on the log group (the Terraform module makes them; about 200 bytes "
                     "less per line)")
      ->envname("FOOTFALL_METRICS")
      ->check(CLI::IsMember({"emf", "log"}))
      ->capture_default_str();
  return lambda;
}

int RunLambda(const LambdaConfig& config) {
  if (config.runtime_api.empty()) {
    std::fprintf(stderr,
                 "footfall: lambda: AWS_LAMBDA_RUNTIME_API is not set (this mode runs inside "
                 "AWS Lambda; use 'footfall serve' to run a server)\n");
    return 2;
  }
  StatusOr<std::unique_ptr<lambda::RuntimeClient>> client =
      lambda::RuntimeClient::Create(config.runtime_api, lambda::kMaxEventBytes);
  if (!client.ok()) {
    std::fprintf(stderr, "footfall: %s\n", client.status().message().c_str());
    return 2;
  }
  // The crawler list's RE2::Set (milliseconds of CPU: docs/benchmarks.md) is built in the init
  // phase, beside the store's opening and the SSM read, not on the first invocation's user agent
  // (which would wait for it if it came first).
  std::jthread bot_matcher_build([] { core::DefaultBotMatcher(); });
  // From here on, a start-up failure is reported to Lambda as an init error too.
  auto init_failure = [&](const std::string& message) {
    WriteLine(R"({"level":"error","msg":"init failed","error":)" +
              nlohmann::json(message).dump() + "}");
    (*client)->PostInitError("Runtime.ConfigError", message).IgnoreError();
    return 1;
  };
  if (config.store.empty()) {
    return init_failure("no store configured: set DYNAMODB_TABLE or FOOTFALL_STORE");
  }
  StatusOr<std::unique_ptr<store::Store>> store = store::OpenStore(config.store);
  if (!store.ok()) return init_failure("cannot open store: " + store.status().message());

  SystemClock clock;
  OsRandom random;
  core::ServiceOptions service_options;
  service_options.stats_token = ReadStatsToken(config.stats_token_parameter);
  service_options.stats_public = config.stats_public;
  service_options.drop_http_libraries = config.drop_http_libraries;
  if (Status applied = ApplyAnalyticsOptions(config.analytics, service_options); !applied.ok()) {
    return init_failure(applied.message());
  }
  service_options.allowed_origins = SplitList(config.allowed_origins);
  service_options.default_site = config.default_site;
  service_options.retention_days = config.retention_days;
  // API Gateway throttles (and a limiter per Lambda instance would not see the others).
  service_options.rate_limit = {.visitor_per_minute = 0, .global_per_second = 0};
  StatusOr<std::unique_ptr<core::Service>> service =
      core::Service::Create(service_options, **store, clock, random);
  if (!service.ok()) return init_failure(service.status().message());

  lambda::LambdaRuntimeOptions options;
  if (std::string name = Env("AWS_LAMBDA_FUNCTION_NAME"); !name.empty()) {
    options.function_name = name;
  }
  options.log_every_invocation = config.log_level == "info";
  options.metrics_format =
      config.metrics == "log" ? lambda::MetricsFormat::kLogFields : lambda::MetricsFormat::kEmf;
  options.drift_count = [] { return store::DriftCount(); };
  // The aggregates function is this same binary, invoked with the table's stream records.
  if (auto* dynamodb = dynamic_cast<store::dynamodb::DynamoDbStore*>(store->get())) {
    options.stream_handler = [dynamodb](const std::string& event,
                                        std::chrono::steady_clock::time_point deadline) {
      return ApplyStreamEvent(*dynamodb, event, deadline);
    };
    options.store_usage = [dynamodb] {
      const store::dynamodb::DynamoDbUsage usage = dynamodb->Usage();
      return lambda::StoreUsage{usage.requests, usage.consumed_capacity};
    };
  }
  lambda::LambdaRuntime runtime(options, **client, **service, clock, WriteLine);
  return runtime.Run();
}

}  // namespace footfall::cli
