// LambdaRuntime: footfall as an AWS Lambda custom runtime. Loops on the Runtime API: takes the
// next invocation, turns the API Gateway event into a core::Request, lets core::Service answer
// it, posts the API Gateway response, and writes one JSON line to stdout per invocation that is
// both the log line and a CloudWatch Embedded Metric Format record (no PutMetricData calls, no raw
// event, no client address). Not thread-safe: Run() owns the calling thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "base/clock.h"
#include "core/service.h"
#include "lambda/runtime_client.h"

namespace footfall::lambda {

struct LambdaRuntimeOptions {
  // Dimension value for the metrics (AWS_LAMBDA_FUNCTION_NAME). Default "footfall".
  std::string function_name = "footfall";
  // Time kept back from the invocation deadline to post the answer. Default 100 ms.
  std::chrono::milliseconds answer_margin{100};
  // Write a line for every invocation (info) or only for failures (warn). Default true.
  bool log_every_invocation = true;
};

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
  LambdaRuntimeOptions options_;
  RuntimeClient& client_;
  core::Service& service_;
  const Clock& clock_;
  std::function<void(const std::string&)> write_line_;
  bool cold_ = true;
};

// The EMF/log line for one invocation. Pure; exposed for tests.
struct InvocationRecord {
  int64_t timestamp_ms = 0;
  std::string request_id;
  std::string trace_id;
  std::string method;
  std::string route;
  int status = 0;
  double latency_ms = 0;       // whole invocation, as seen by the runtime
  double store_latency_ms = 0; // time the handler waited for the store (0: no store call)
  bool visit_recorded = false;
  bool error = false;          // a 5xx, an invalid event or a failed post
  bool cold_start = false;
  std::string error_detail;    // for operators; never contains client data
};
std::string FormatInvocationLine(const InvocationRecord& record, const std::string& function_name);

}  // namespace footfall::lambda
