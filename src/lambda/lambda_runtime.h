// LambdaRuntime: footfall as an AWS Lambda custom runtime. Loops on the Runtime API: takes the
// next invocation, turns the API Gateway event into a core::Request, lets core::Service answer
// it, posts the API Gateway response, and writes one JSON line to stdout per invocation that is
// both the log line and a CloudWatch Embedded Metric Format record (no PutMetricData calls, no raw
// event, no client address). An event of DynamoDB stream records goes to the stream handler
// instead (the aggregates function runs the same binary); an EventBridge scheduled event runs
// core::Service::Maintain (old salts deleted whatever the traffic). Not thread-safe: Run() owns the
// calling thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "core/service.h"
#include "lambda/runtime_client.h"

namespace footfall::lambda {

// What became of an invocation that carried a batch of DynamoDB stream records (the aggregates
// function's events) instead of an API Gateway request.
struct StreamBatchOutcome {
  Status status;                       // not ok: the invocation fails and Lambda retries it
  int64_t visits_applied = 0;          // added to the aggregates now
  int64_t visits_already_applied = 0;  // applied by an earlier delivery of the same records
  int64_t records_skipped = 0;         // poison: not valid visits, skipped for good
  int64_t not_visits = 0;              // records with nothing to aggregate
  std::vector<std::string> problems;   // why records were skipped (no record data in them)
  int64_t write_units = 0;             // write request units written, by AWS's rules
  int64_t read_units = 0;              // read request units of the reads before writing
};

// What the store has asked of its database so far (monotonic counters); the runtime logs the
// difference over each invocation.
struct StoreUsage {
  int64_t requests = 0;
  double consumed_capacity = 0;  // as the database reported it
};

// Applies `event` if it is a batch of stream records, by `deadline`; nullopt if it is not one.
// May block (the runtime serves one invocation at a time).
using StreamBatchHandler = std::function<std::optional<StreamBatchOutcome>(
    const std::string& event, std::chrono::steady_clock::time_point deadline)>;

// How an invocation line carries its metrics (docs/aws.md, "What one invocation does").
enum class MetricsFormat {
  // CloudWatch Embedded Metric Format: the line declares its metrics itself (an `_aws`
  // directive, about 200 bytes). Works wherever the line is ingested, with no setup.
  kEmf,
  // The same members without the directive: CloudWatch metric filters on the log group (the
  // Terraform module creates them) make the metrics. Half the bytes of CloudWatch Logs per visit.
  kLogFields,
};

struct LambdaRuntimeOptions {
  // Dimension value for the metrics (AWS_LAMBDA_FUNCTION_NAME). Default "footfall".
  std::string function_name = "footfall";
  MetricsFormat metrics_format = MetricsFormat::kEmf;
  // Time kept back from the invocation deadline to post the answer. Default 100 ms.
  std::chrono::milliseconds answer_margin{100};
  // Write a line for every invocation (info) or only for failures (warn). Default true.
  bool log_every_invocation = true;
  // Set when the store can apply stream batches; without it such events are invalid events.
  StreamBatchHandler stream_handler = nullptr;
  // Set when the store counts its requests: each line then says what the invocation cost.
  std::function<StoreUsage()> store_usage = nullptr;
  // Set to the process's drift count (store/drift.h): visits that drifted since the previous line
  // are the next line's metric StoreDriftVisits, and that line is written even at warn.
  std::function<uint64_t()> drift_count = nullptr;
};

struct InvocationRecord;

class LambdaRuntime {
 public:
  // `write_line` receives each log/metric line (without newline); the references must outlive
  // the runtime.
  LambdaRuntime(LambdaRuntimeOptions options, RuntimeClient& client, core::Service& service,
                const Clock& clock, std::function<void(const std::string&)> write_line);

  // Serves invocations until the Runtime API cannot be reached. Returns the exit code (1).
  int Run();

  // Answers one invocation (posting its response or error). Returns the Runtime API's verdict on
  // the post.
  Status HandleInvocation(const Invocation& invocation);

 private:
  // Runs the maintenance a scheduled event asks for and posts its outcome.
  Status Maintain(const Invocation& invocation, std::chrono::steady_clock::time_point started,
                  InvocationRecord& record);

  LambdaRuntimeOptions options_;
  RuntimeClient& client_;
  core::Service& service_;
  const Clock& clock_;
  std::function<void(const std::string&)> write_line_;
  bool cold_ = true;
  uint64_t drift_reported_ = 0;  // options_.drift_count() when the last line was written
};

// The EMF/log line for one invocation. Pure; exposed for tests.
struct InvocationRecord {
  int64_t timestamp_ms = 0;
  std::string request_id;
  std::string method;
  std::string route;
  int status = 0;
  double latency_ms = 0;       // whole invocation, as seen by the runtime
  double store_latency_ms = 0; // time the handler waited for the store (0: no store call)
  bool visit_recorded = false;
  bool error = false;          // a 5xx, an invalid event or a failed post
  bool cold_start = false;
  std::string error_detail;    // for operators; never contains client data
  // Set for a stream batch: its metrics replace VisitsRecorded and StoreLatency.
  std::optional<StreamBatchOutcome> stream;
  // Set for a scheduled maintenance event: what it deleted.
  std::optional<core::MaintenanceReport> maintenance;
  // The store's requests and reported capacity during this invocation, when it counts them.
  std::optional<StoreUsage> store_usage;
  // Visits the store reported as drift since the previous line (StoreDriftVisits, declared only
  // when not 0: the metric has no data point otherwise, and the common line stays short).
  uint64_t drift_visits = 0;
};
std::string FormatInvocationLine(const InvocationRecord& record, const std::string& function_name,
                                 MetricsFormat format = MetricsFormat::kEmf);

}  // namespace footfall::lambda
