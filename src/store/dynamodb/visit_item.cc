#include "store/dynamodb/visit_item.h"

#include "base/utc_time.h"

namespace footfall::store::dynamodb {

json VisitItem(const Visit& visit, bool for_stream) {
  json item = {{"visit_id", S(visit.visit_id)},   {"timestamp", S(visit.timestamp)},
               {"visitor", S(visit.visitor)},     {"user_agent", S(visit.user_agent)},
               {"path", S(visit.path)},           {"referrer", S(visit.referrer)},
               {"site", S(visit.site)},           {"expiration_time", N(visit.expiration_time)}};
  if (!visit.screen.empty()) item["screen"] = S(visit.screen);
  if (!visit.source.empty()) item["source"] = S(visit.source);
  if (for_stream) item["aggregates"] = S("stream");
  return item;
}

bool IsVisitItem(const json& item) { return !Member(item, "timestamp").is_null(); }

bool IsForStream(const json& item) { return StringAttribute(item, "aggregates") == "stream"; }

StatusOr<Visit> VisitFromItem(const json& item) {
  Visit visit;
  const char* missing = nullptr;
  auto take = [&item, &missing](const char* name, std::string& out) {
    std::optional<std::string> value = StringAttribute(item, name);
    if (value) {
      out = std::move(*value);
    } else if (missing == nullptr) {
      missing = name;
    }
  };
  take("visit_id", visit.visit_id);
  take("timestamp", visit.timestamp);
  take("visitor", visit.visitor);
  take("user_agent", visit.user_agent);
  take("path", visit.path);
  take("referrer", visit.referrer);
  take("site", visit.site);
  std::optional<int64_t> expiration = NumberAttribute(item, "expiration_time");
  if (!expiration && missing == nullptr) missing = "expiration_time";
  if (missing != nullptr) {
    return InternalError(std::string("a visit item lacks a well-typed ") + missing);
  }
  visit.expiration_time = *expiration;
  // Absent on visits recorded before they were kept.
  if (std::optional<std::string> screen = StringAttribute(item, "screen")) visit.screen = *screen;
  if (std::optional<std::string> source = StringAttribute(item, "source")) visit.source = *source;
  bool date_only = false;
  StatusOr<int64_t> time_ms = ParseUtcTime(visit.timestamp, date_only);
  if (!time_ms.ok()) return InternalError("a visit item has a malformed timestamp");
  visit.time_ms = *time_ms;
  return visit;
}

}  // namespace footfall::store::dynamodb
