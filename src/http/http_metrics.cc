#include "http/http_metrics.h"

#include <string>

namespace footfall::http {

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
  const std::string status_text = std::to_string(status);
  requests_->WithLabels({"route", route}, {"status", status_text}).Increment();
  durations_->WithLabels({"route", route}).Observe(seconds);
}

}  // namespace footfall::http
