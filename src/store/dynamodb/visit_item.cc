#include "store/dynamodb/visit_item.h"

#include <array>
#include <utility>

#include "base/utc_time.h"

namespace footfall::store::dynamodb {
namespace {

// The attribute names of a campaign's members.
std::array<std::pair<const char*, std::string*>, 5> CampaignFields(Campaign& campaign) {
  return {{{"source", &campaign.source},
           {"medium", &campaign.medium},
           {"name", &campaign.name},
           {"content", &campaign.content},
           {"term", &campaign.term}}};
}
std::array<std::pair<const char*, const std::string*>, 5> CampaignFields(const Campaign& campaign) {
  return {{{"source", &campaign.source},
           {"medium", &campaign.medium},
           {"name", &campaign.name},
           {"content", &campaign.content},
           {"term", &campaign.term}}};
}

}  // namespace

json VisitItem(const Visit& visit, bool for_stream) {
  json item = {{"visit_id", S(visit.visit_id)},   {"timestamp", S(visit.timestamp)},
               {"visitor", S(visit.visitor)},     {"user_agent", S(visit.user_agent)},
               {"path", S(visit.path)},           {"referrer", S(visit.referrer)},
               {"site", S(visit.site)},           {"expiration_time", N(visit.expiration_time)}};
  if (!visit.screen.empty()) item["screen"] = S(visit.screen);
  if (!visit.source.empty()) item["source"] = S(visit.source);
  if (!visit.event.empty()) item["event"] = S(visit.event);
  if (!visit.props.empty()) {
    json props = json::object();
    for (const auto& [key, value] : visit.props) props[key] = S(value);
    item["props"] = {{"M", std::move(props)}};
  }
  if (for_stream) {
    item["aggregates"] = S("stream");
    // What only the aggregates keep travels to the stream consumer with the visit.
    json campaign = json::object();
    for (const auto& [name, value] : CampaignFields(visit.campaign)) {
      if (!value->empty()) campaign[name] = S(*value);
    }
    if (!campaign.empty()) item["campaign"] = {{"M", std::move(campaign)}};
    if (!visit.goals.empty()) {
      json goals = json::array();
      for (const std::string& goal : visit.goals) goals.push_back(S(goal));
      item["goals"] = {{"L", std::move(goals)}};
    }
  }
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
  if (std::optional<std::string> event = StringAttribute(item, "event")) visit.event = *event;
  // Malformed members are skipped, never thrown on: the item is untrusted input.
  const json& props = Member(Member(item, "props"), "M");
  if (props.is_object()) {
    for (const auto& [key, value] : props.items()) {
      const json& text = Member(value, "S");
      if (text.is_string()) visit.props.emplace_back(key, text.get<std::string>());
    }
  }
  const json& campaign = Member(Member(item, "campaign"), "M");
  for (const auto& [name, value] : CampaignFields(visit.campaign)) {
    const json& text = Member(Member(campaign, name), "S");
    if (text.is_string()) *value = text.get<std::string>();
  }
  const json& goals = Member(Member(item, "goals"), "L");
  if (goals.is_array()) {
    for (const json& goal : goals) {
      const json& text = Member(goal, "S");
      if (text.is_string()) visit.goals.push_back(text.get<std::string>());
    }
  }
  bool date_only = false;
  StatusOr<int64_t> time_ms = ParseUtcTime(visit.timestamp, date_only);
  if (!time_ms.ok()) return InternalError("a visit item has a malformed timestamp");
  visit.time_ms = *time_ms;
  return visit;
}

}  // namespace footfall::store::dynamodb
