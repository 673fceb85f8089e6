// ServeMetrics: the Prometheus metrics of `footfall serve`, in one registry: the HTTP adapter's,
// the store's (through an InstrumentedStore wrapped around it), visits recorded, drops by reason
// and build info. Thread-safe once created.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "http/http_metrics.h"
#include "metrics/registry.h"
#include "store/instrumented_store.h"

namespace footfall::cli {

class ServeMetrics {
 public:
  // Wraps `store` (which must outlive this). Errors: registry errors (a bug).
  static StatusOr<std::unique_ptr<ServeMetrics>> Create(store::Store& store);

  store::InstrumentedStore& store() { return *store_; }
  http::HttpMetrics* http() { return http_.get(); }
  metrics::Registry& registry() { return registry_; }
  void CountDrop(std::string_view reason);
  void CountVisit() { visits_->Increment(); }
  std::string Render() const { return registry_.Render(); }

 private:
  ServeMetrics() = default;
  metrics::Registry registry_;
  std::unique_ptr<store::InstrumentedStore> store_;
  std::unique_ptr<http::HttpMetrics> http_;
  metrics::Family<metrics::Counter>* drops_ = nullptr;
  metrics::Counter* visits_ = nullptr;
};

}  // namespace footfall::cli
