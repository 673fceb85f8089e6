// HttpMetrics: what the HTTP adapter reports to Prometheus: requests by route and status
// (footfall_http_requests_total), their latency by route (footfall_http_request_duration_seconds),
// requests in flight and open connections. Thread-safe: called from every event-loop thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "metrics/registry.h"

namespace footfall::http {

class HttpMetrics {
 public:
  // Errors: kAlreadyExists when the registry already has these metrics.
  static StatusOr<std::unique_ptr<HttpMetrics>> Create(metrics::Registry& registry);

  void ConnectionOpened() { open_connections_->Add(1); }
  void ConnectionClosed() { open_connections_->Add(-1); }
  void RequestStarted() { in_flight_->Add(1); }
  // `route` is the route template ("/count", "unknown"): a bounded set.
  void RequestFinished(std::string_view route, int status, double seconds);

 private:
  HttpMetrics();
  const uint64_t id_;  // unique per instance: keys the per-thread series cache
  metrics::Family<metrics::Counter>* requests_ = nullptr;
  metrics::Family<metrics::Histogram>* durations_ = nullptr;
  metrics::Gauge* in_flight_ = nullptr;
  metrics::Gauge* open_connections_ = nullptr;
};

}  // namespace footfall::http
