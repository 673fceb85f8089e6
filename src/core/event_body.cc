#include "core/event_body.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

namespace footfall::core {

StatusOr<EventBody> ParseEventBody(std::string_view body) {
  if (body.size() > kMaxEventBodyBytes) {
    return InvalidArgumentError("the event body is larger than " +
                                std::to_string(kMaxEventBodyBytes) + " bytes");
  }
  rapidjson::Document document;
  document.Parse<rapidjson::kParseValidateEncodingFlag>(body.data(), body.size());
  if (document.HasParseError() || !document.IsObject()) {
    return InvalidArgumentError("the event body must be a JSON object of valid UTF-8");
  }
  EventBody event;
  for (const auto& member : document.GetObject()) {
    const std::string_view name(member.name.GetString(), member.name.GetStringLength());
    const rapidjson::Value& value = member.value;
    if (name == "path" || name == "referrer") {
      if (value.IsNull()) continue;
      if (!value.IsString()) return InvalidArgumentError(std::string(name) + " must be a string");
      std::string text(value.GetString(), value.GetStringLength());
      if (name == "path") {
        event.path = std::move(text);
      } else {
        event.referrer = std::move(text);
      }
    } else if (name == "screen") {
      if (value.IsNull()) continue;
      if (!value.IsNumber() || value.GetDouble() < 0 || value.GetDouble() > 100000) {
        return InvalidArgumentError("screen must be a width in pixels, 0..100000");
      }
      event.screen_width = static_cast<int>(value.GetDouble());
    }
  }
  return event;
}

std::string_view ScreenClass(int screen_width) {
  if (screen_width <= 0) return "";
  if (screen_width < 600) return "<600";
  if (screen_width < 1024) return "600-1023";
  if (screen_width < 1440) return "1024-1439";
  return "1440+";
}

}  // namespace footfall::core
