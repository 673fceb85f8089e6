#include "lambda/scheduled_event.h"

#include <rapidjson/document.h>

namespace footfall::lambda {

bool IsScheduledEvent(std::string_view event_json) {
  rapidjson::Document event;
  event.Parse<rapidjson::kParseValidateEncodingFlag>(event_json.data(), event_json.size());
  if (event.HasParseError() || !event.IsObject()) return false;
  auto string_is = [&event](const char* name, std::string_view expected) {
    const auto member = event.FindMember(name);
    return member != event.MemberEnd() && member->value.IsString() &&
           std::string_view(member->value.GetString(), member->value.GetStringLength()) ==
               expected;
  };
  return string_is("source", "aws.events") && string_is("detail-type", "Scheduled Event");
}

}  // namespace footfall::lambda
