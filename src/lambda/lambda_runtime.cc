#include "lambda/lambda_runtime.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cmath>
#include <future>
#include <utility>
#include <vector>

#include "base/loop_guard.h"
#include "lambda/api_gateway_event.h"
#include "lambda/scheduled_event.h"

namespace footfall::lambda {

using SteadyClock = std::chrono::steady_clock;

namespace {

// One EMF metric of an invocation line: `unit` null for counts (EMF's default, "None").
struct LineMetric {
  const char* name;
  const char* unit;
  double value;
};

// The metrics an invocation line declares: only those with something to say, so that the common
// line (a warm visit: VisitsRecorded and StoreLatency) stays short. A count that is 0 has no data
// point, which CloudWatch's Sum treats as 0 and the module's alarms as not breaching.
std::vector<LineMetric> DeclaredMetrics(const InvocationRecord& record) {
  std::vector<LineMetric> metrics;
  auto count = [&metrics](const char* name, int64_t value) {
    if (value != 0) metrics.push_back({name, nullptr, static_cast<double>(value)});
  };
  if (record.stream) {
    // Declared even when 0: a batch of records that were all passed over still ran.
    metrics.push_back({"StreamVisitsApplied", nullptr,
                       static_cast<double>(record.stream->visits_applied)});
    count("StreamRecordsAlreadyApplied", record.stream->visits_already_applied);
    count("StreamRecordsSkipped", record.stream->records_skipped);
  } else {
    count("VisitsRecorded", record.visit_recorded ? 1 : 0);
    if (record.store_latency_ms > 0) {
      metrics.push_back({"StoreLatency", "Milliseconds", record.store_latency_ms});
    }
  }
  count("StoreDriftVisits", static_cast<int64_t>(record.drift_visits));
  count("Errors", record.error ? 1 : 0);
  count("ColdStart", record.cold_start ? 1 : 0);
  return metrics;
}

// Milliseconds to 0.01 ms: enough for any reader, and 5 bytes instead of up to 18.
double Hundredths(double ms) { return std::round(ms * 100) / 100; }

}  // namespace

std::string FormatInvocationLine(const InvocationRecord& record,
                                 const std::string& function_name, MetricsFormat format) {
  // One object that CloudWatch Logs keeps as the log line and turns into metrics (EMF spec:
  // _aws.CloudWatchMetrics names the metrics; their values are top-level members). Written with
  // RapidJSON's writer: it runs on every invocation. It is short on purpose — at a million visits
  // every 100 bytes cost $0.05 of CloudWatch Logs ingestion (docs/aws.md, "What it costs") — so a
  // field Lambda's own START/REPORT lines already carry (the X-Ray trace id) is not repeated.
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  auto key_string = [&](const char* key, const std::string& value) {
    w.Key(key);
    w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
  };
  auto number = [&](double value) {
    if (value == std::floor(value) && std::fabs(value) < 9e15) {
      w.Int64(static_cast<int64_t>(value));
    } else {
      w.Double(value);
    }
  };
  const std::vector<LineMetric> metrics = DeclaredMetrics(record);
  w.StartObject();
  if (!metrics.empty() && format == MetricsFormat::kEmf) {
    w.Key("_aws");
    w.StartObject();
    w.Key("Timestamp");
    w.Int64(record.timestamp_ms);
    w.Key("CloudWatchMetrics");
    w.StartArray();
    w.StartObject();
    w.Key("Namespace");
    w.String("Footfall");
    w.Key("Dimensions");
    w.StartArray();
    w.StartArray();
    w.String("FunctionName");
    w.EndArray();
    w.EndArray();
    w.Key("Metrics");
    w.StartArray();
    for (const LineMetric& metric : metrics) {
      w.StartObject();
      w.Key("Name");
      w.String(metric.name);
      if (metric.unit != nullptr) {
        w.Key("Unit");
        w.String(metric.unit);
      }
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    w.EndArray();
    w.EndObject();
  }
  if (!metrics.empty()) {
    // The dimension's value: EMF reads it from the line, and so do the metric filters.
    key_string("FunctionName", function_name);
    for (const LineMetric& metric : metrics) {
      w.Key(metric.name);
      number(metric.unit != nullptr ? Hundredths(metric.value) : metric.value);
    }
  }
  if (record.error) key_string("level", "error");
  if (!record.request_id.empty()) key_string("request_id", record.request_id);
  if (record.stream) {
    w.Key("records_not_visits");
    w.Int64(record.stream->not_visits);
    w.Key("write_units");
    w.Int64(record.stream->write_units);
    w.Key("read_units");
    w.Int64(record.stream->read_units);
    if (!record.stream->problems.empty()) {
      w.Key("skipped_because");
      w.StartArray();
      for (const std::string& problem : record.stream->problems) {
        w.String(problem.data(), static_cast<rapidjson::SizeType>(problem.size()));
      }
      w.EndArray();
    }
  } else {
    if (record.maintenance) {
      for (const auto& [name, step] :
           {std::pair{"salts_deleted", &record.maintenance->salts_deleted},
            std::pair{"visits_pruned", &record.maintenance->visits_pruned}}) {
        if (!step->ok()) continue;
        w.Key(name);
        w.Int64(**step);
      }
    }
  }
  if (!record.method.empty()) key_string("method", record.method);
  if (!record.route.empty()) key_string("route", record.route);
  if (record.status != 0) {
    w.Key("status");
    w.Int(record.status);
  }
  w.Key("latency_ms");
  number(Hundredths(record.latency_ms));
  if (record.store_usage) {
    w.Key("dynamodb_requests");
    w.Int64(record.store_usage->requests);
    w.Key("consumed_capacity");
    number(record.store_usage->consumed_capacity);
  }
  if (!record.error_detail.empty()) key_string("error", record.error_detail);
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

LambdaRuntime::LambdaRuntime(LambdaRuntimeOptions options, RuntimeClient& client,
                             core::Service& service, const Clock& clock,
                             std::function<void(const std::string&)> write_line)
    : options_(std::move(options)),
      client_(client),
      service_(service),
      clock_(clock),
      write_line_(std::move(write_line)) {}

int LambdaRuntime::Run() {
  while (true) {
    StatusOr<Invocation> invocation = client_.Next();
    if (!invocation.ok()) {
      InvocationRecord record;
      record.timestamp_ms = UnixMillis(clock_.Now());
      record.error = true;
      record.error_detail = "Runtime API unreachable; exiting: " + invocation.status().ToString();
      write_line_(FormatInvocationLine(record, options_.function_name, options_.metrics_format));
      return 1;
    }
    // Errors are already logged by HandleInvocation. An exception (a bug) is answered as an
    // error, so that Lambda does not wait for this invocation until its timeout.
    if (!CatchEscaped("lambda", [&] { HandleInvocation(*invocation).IgnoreError(); })) {
      client_.PostError(invocation->request_id, "InternalError", "footfall failed internally")
          .IgnoreError();
    }
  }
}

Status LambdaRuntime::Maintain(const Invocation& invocation, SteadyClock::time_point started,
                               InvocationRecord& record) {
  const auto deadline =
      invocation.deadline_ms > 0
          ? started + std::chrono::milliseconds(invocation.deadline_ms - record.timestamp_ms) -
                options_.answer_margin
          : SteadyClock::time_point::max();
  std::promise<core::MaintenanceReport> done;
  service_.Maintain(deadline, [&done](core::MaintenanceReport report) {
    done.set_value(std::move(report));
  });
  const core::MaintenanceReport report = done.get_future().get();
  record.route = "maintenance";
  record.maintenance = report;
  for (const StatusOr<int64_t>* step : {&report.salts_deleted, &report.visits_pruned}) {
    if (step->ok()) continue;
    record.error = true;
    record.error_detail += (record.error_detail.empty() ? "" : "; ") + step->status().ToString();
  }
  // A failed run fails the invocation: EventBridge retries it, and the next hour's runs anyway.
  if (record.error) {
    return client_.PostError(invocation.request_id, "MaintenanceFailed", record.error_detail);
  }
  return client_.PostResponse(
      invocation.request_id, R"({"salts_deleted":)" + std::to_string(*report.salts_deleted) +
                                 R"(,"visits_pruned":)" + std::to_string(*report.visits_pruned) +
                                 "}");
}

Status LambdaRuntime::HandleInvocation(const Invocation& invocation) {
  const auto started = SteadyClock::now();
  InvocationRecord record;
  record.timestamp_ms = UnixMillis(clock_.Now());
  record.request_id = invocation.request_id;
  record.cold_start = cold_;
  cold_ = false;
  // The trace id is not put in the process environment (_X_AMZN_TRACE_ID, as AWS's runtimes do):
  // setenv while other threads may read the environment is undefined behaviour, and footfall
  // sends no X-Ray segments of its own. Lambda's REPORT line names it beside the request id.

  const std::optional<StoreUsage> usage_before =
      options_.store_usage ? std::optional<StoreUsage>(options_.store_usage()) : std::nullopt;
  auto finish = [&](Status posted) {
    if (usage_before) {
      const StoreUsage now = options_.store_usage();
      record.store_usage = StoreUsage{now.requests - usage_before->requests,
                                      now.consumed_capacity - usage_before->consumed_capacity};
    }
    record.latency_ms =
        std::chrono::duration<double, std::milli>(SteadyClock::now() - started).count();
    if (!posted.ok()) {
      record.error = true;
      record.error_detail += (record.error_detail.empty() ? "" : "; ") + posted.ToString();
    }
    if (options_.drift_count) {
      const uint64_t drift = options_.drift_count();
      record.drift_visits = drift - drift_reported_;
      drift_reported_ = drift;
    }
    if (options_.log_every_invocation || record.error || record.drift_visits > 0) {
      write_line_(FormatInvocationLine(record, options_.function_name, options_.metrics_format));
    }
    return posted;
  };

  StatusOr<ApiGatewayRequest> parsed =
      invocation.event_too_large
          ? StatusOr<ApiGatewayRequest>(InvalidArgumentError("event larger than the limit"))
          : ParseApiGatewayEvent(invocation.event);
  if (!parsed.ok() && !invocation.event_too_large && options_.stream_handler) {
    const auto deadline = invocation.deadline_ms > 0
                              ? started + std::chrono::milliseconds(invocation.deadline_ms -
                                                                    record.timestamp_ms) -
                                    options_.answer_margin
                              : SteadyClock::time_point::max();
    if (std::optional<StreamBatchOutcome> batch =
            options_.stream_handler(invocation.event, deadline)) {
      const Status applied = batch->status;
      record.route = "stream";
      record.stream = std::move(batch);
      if (!applied.ok()) {
        // Retried by Lambda (split in two, when the mapping bisects); what was applied is
        // skipped then.
        record.error = true;
        record.error_detail = applied.ToString();
        // A batch that cannot be read at all is an invalid event, as for API Gateway.
        return finish(client_.PostError(
            invocation.request_id,
            applied.code() == StatusCode::kInvalidArgument ? "InvalidEvent"
                                                           : "AggregatesNotApplied",
            applied.message()));
      }
      return finish(client_.PostResponse(invocation.request_id, R"({"batchItemFailures":[]})"));
    }
  }
  if (!parsed.ok() && !invocation.event_too_large && IsScheduledEvent(invocation.event)) {
    return finish(Maintain(invocation, started, record));
  }
  if (!parsed.ok()) {
    // Not an API Gateway request we can answer with a status code: report it as a function
    // error, so it shows in Lambda's Errors metric and the caller sees a failed invocation.
    record.error = true;
    record.error_detail = parsed.status().message();
    return finish(client_.PostError(invocation.request_id, "InvalidEvent",
                                    parsed.status().message()));
  }

  core::Request& request = parsed->request;
  record.method = request.method;
  if (invocation.deadline_ms > 0) {
    const auto remaining = std::chrono::milliseconds(invocation.deadline_ms - record.timestamp_ms);
    request.deadline = started + remaining - options_.answer_margin;
  }
  request.request_id = invocation.request_id;

  std::promise<core::Response> answered;
  const auto handle_started = SteadyClock::now();
  service_.Handle(request, [&answered](core::Response response) {
    answered.set_value(std::move(response));
  });
  core::Response response = answered.get_future().get();
  const double handler_ms =
      std::chrono::duration<double, std::milli>(SteadyClock::now() - handle_started).count();

  record.route = response.route;
  record.status = response.status;
  record.visit_recorded = response.store_batch_size > 0;
  record.store_latency_ms = response.used_store ? handler_ms : 0;
  record.error = response.status >= 500;
  record.error_detail = response.internal_error;
  // As `serve` answers: the id the invocation's log line carries, for support requests.
  response.AddHeader("X-Request-Id", invocation.request_id);
  return finish(client_.PostResponse(invocation.request_id,
                                     FormatApiGatewayResponse(response, parsed->format)));
}

}  // namespace footfall::lambda
