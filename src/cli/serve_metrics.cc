#include "cli/serve_metrics.h"

#include "core/user_agent.h"

namespace footfall::cli {

StatusOr<std::unique_ptr<ServeMetrics>> ServeMetrics::Create(store::Store& store) {
  std::unique_ptr<ServeMetrics> out(new ServeMetrics());
  ASSIGN_OR_RETURN(out->store_, store::InstrumentedStore::Create(store, out->registry_));
  ASSIGN_OR_RETURN(out->http_, http::HttpMetrics::Create(out->registry_));
  ASSIGN_OR_RETURN(out->drops_,
                   out->registry_.AddCounter("footfall_drops_total",
                                             "Requests not recorded as visits, by reason.", {"reason"}));
  // Every reason exists from the start at 0, so that rate() and spike alerts have a baseline.
  for (std::string_view reason :
       {std::string_view("prefetch"), std::string_view("foreign_origin"), std::string_view("invalid"),
        std::string_view("rate_limited"), core::kBotKindCrawler, core::kBotKindHeadless,
        core::kBotKindLinkPreview, core::kBotKindMonitor, core::kBotKindFeedReader,
        core::kBotKindScanner}) {
    out->drops_->WithLabels({"reason", reason});
  }
  ASSIGN_OR_RETURN(metrics::Family<metrics::Counter>* visits,
                   out->registry_.AddCounter("footfall_visits_recorded_total",
                                             "Visits durably recorded."));
  out->visits_ = &visits->WithLabels();
  ASSIGN_OR_RETURN(metrics::Family<metrics::Gauge>* build,
                   out->registry_.AddGauge("footfall_build_info",
                                           "Always 1; the version is in the label.", {"version"}));
  build->WithLabels({"version", FOOTFALL_VERSION}).Set(1);
  return out;
}

void ServeMetrics::CountDrop(std::string_view reason) {
  drops_->WithLabels({"reason", reason}).Increment();
}

}  // namespace footfall::cli
