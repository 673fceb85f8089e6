#include "http/http_metrics.h"

#include <atomic>
#include <string>
#include <vector>

namespace footfall::http {

namespace {
std::atomic<uint64_t> next_id{1};
}  // namespace

HttpMetrics::HttpMetrics() : id_(next_id.fetch_add(1)) {}

StatusOr<std::unique_ptr<HttpMetrics>> HttpMetrics::Create(metrics::Registry& registry) {
  std::unique_ptr<HttpMetrics> out(new HttpMetrics());
  ASSIGN_OR_RETURN(out->requests_,
                   registry.AddCounter("footfall_http_requests_total",
                                       "HTTP requests answered, by route template and status.",
                                       {"route", "status"}));
  ASSIGN_OR_RETURN(out->durations_,
                   registry.AddHistogram("footfall_http_request_duration_seconds",
                                         "Time from a request's arrival to its answer, in seconds.",
                                         metrics::LatencyBuckets(), {"route"}));
  ASSIGN_OR_RETURN(metrics::Family<metrics::Gauge>* in_flight,
                   registry.AddGauge("footfall_http_in_flight_requests",
                                     "Requests received and not yet answered."));
  ASSIGN_OR_RETURN(metrics::Family<metrics::Gauge>* connections,
                   registry.AddGauge("footfall_http_open_connections", "Open client connections."));
  out->in_flight_ = &in_flight->WithLabels();
  out->open_connections_ = &connections->WithLabels();
  return out;
}

void HttpMetrics::RequestFinished(std::string_view route, int status, double seconds) {
  in_flight_->Add(-1);
  // Looking a series up takes the family's mutex; each event-loop thread remembers the few
  // (route, status) series it has used instead. Routes are a fixed set, statuses a small one.
  struct Cached {
    uint64_t owner;
    std::string route;
    int status;
    metrics::Counter* requests;
    metrics::Histogram* duration;
  };
  thread_local std::vector<Cached> cache;
  for (const Cached& entry : cache) {
    if (entry.owner == id_ && entry.status == status && entry.route == route) {
      entry.requests->Increment();
      entry.duration->Observe(seconds);
      return;
    }
  }
  const std::string status_text = std::to_string(status);
  metrics::Counter& requests = requests_->WithLabels({"route", route}, {"status", status_text});
  metrics::Histogram& duration = durations_->WithLabels({"route", route});
  if (cache.size() < 64) cache.push_back({id_, std::string(route), status, &requests, &duration});
  requests.Increment();
  duration.Observe(seconds);
}

}  // namespace footfall::http
