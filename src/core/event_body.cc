#include "core/event_body.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include "core/campaign.h"
#include "core/text.h"

namespace footfall::core {
namespace {

// Printable: valid UTF-8 without C0 controls or DEL.
bool IsPrintable(std::string_view text) {
  if (!IsValidUtf8(text)) return false;
  return std::none_of(text.begin(), text.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

std::string_view View(const rapidjson::Value& value) {
  return {value.GetString(), value.GetStringLength()};
}

// The text of a property value: a string as it is; with `scalars`, also a number or a boolean as
// its JSON text (Plausible's trackers send those). nullopt for anything else.
std::optional<std::string> PropText(const rapidjson::Value& value, bool scalars) {
  if (value.IsString()) return std::string(View(value));
  if (!scalars) return std::nullopt;
  if (value.IsBool()) return value.GetBool() ? "true" : "false";
  if (value.IsInt64()) return std::to_string(value.GetInt64());
  if (value.IsUint64()) return std::to_string(value.GetUint64());
  if (value.IsDouble()) {
    char text[32];
    std::snprintf(text, sizeof text, "%.17g", value.GetDouble());
    return std::string(text);
  }
  return std::nullopt;
}

Status ParseProps(const rapidjson::Value& value, EventBody& event, bool scalars = false) {
  if (!value.IsObject()) return InvalidArgumentError("props must be an object of strings");
  if (value.MemberCount() > kMaxProps) {
    return InvalidArgumentError("props may have at most " + std::to_string(kMaxProps) + " keys");
  }
  for (const auto& member : value.GetObject()) {
    std::optional<std::string> text = PropText(member.value, scalars);
    if (!text) {
      return InvalidArgumentError("props." + std::string(View(member.name)) + " must be a string");
    }
    event.props.emplace_back(View(member.name), *std::move(text));
  }
  std::sort(event.props.begin(), event.props.end());
  return CheckProps(event.props);
}

Status ParseCampaign(const rapidjson::Value& value, EventBody& event) {
  if (!value.IsObject()) return InvalidArgumentError("utm must be an object of strings");
  QueryParameters params;
  for (const auto& member : value.GetObject()) {
    std::string name(View(member.name));
    if (!member.value.IsString()) return InvalidArgumentError("utm." + name + " must be a string");
    if (!name.starts_with("utm_")) name = "utm_" + name;  // {"source": …} or {"utm_source": …}
    params.emplace_back(std::move(name), std::string(View(member.value)));
  }
  event.campaign = CampaignFromParameters(params, /*page_url=*/false);
  return OkStatus();
}

}  // namespace

Status CheckEventName(std::string_view name) {
  if (name.empty() || name.size() > kMaxEventNameBytes || !IsPrintable(name)) {
    return InvalidArgumentError("name must be 1.." + std::to_string(kMaxEventNameBytes) +
                                " bytes of printable text");
  }
  return OkStatus();
}

Status CheckProps(const std::vector<std::pair<std::string, std::string>>& props) {
  if (props.size() > kMaxProps) {
    return InvalidArgumentError("props may have at most " + std::to_string(kMaxProps) + " keys");
  }
  for (size_t i = 0; i < props.size(); ++i) {
    const auto& [key, value] = props[i];
    if (key.empty() || key.size() > kMaxPropKeyBytes || !IsPrintable(key)) {
      return InvalidArgumentError("props keys must be 1.." + std::to_string(kMaxPropKeyBytes) +
                                  " bytes of printable text");
    }
    const std::string field = "props." + key;
    if (i > 0 && props[i - 1].first >= key) {
      return InvalidArgumentError(field + (props[i - 1].first == key ? " is given twice"
                                                                      : " is out of order"));
    }
    if (value.size() > kMaxPropValueBytes || !IsPrintable(value)) {
      return InvalidArgumentError(field + " must be at most " +
                                  std::to_string(kMaxPropValueBytes) + " bytes of printable text");
    }
    if (ContainsIpAddress(value)) {
      return InvalidArgumentError(field + " holds an IP address, which footfall never stores");
    }
  }
  return OkStatus();
}

bool ContainsIpAddress(std::string_view text) {
  // Candidate tokens are runs of the characters an address is written with.
  auto is_address_char = [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
           c == '.' || c == ':';
  };
  size_t i = 0;
  while (i < text.size()) {
    if (!is_address_char(text[i])) {
      ++i;
      continue;
    }
    size_t end = i;
    while (end < text.size() && is_address_char(text[end])) ++end;
    const std::string token(text.substr(i, end - i));
    i = end;
    if (token.size() < 2 || token.size() > 45) continue;
    unsigned char address[16];
    if (inet_pton(AF_INET6, token.c_str(), address) == 1) return true;
    // Also a dotted quad inside a longer run ("ip:1.2.3.4", "1.2.3.4:80").
    for (size_t start = 0; start < token.size(); ++start) {
      if (start > 0 && token[start - 1] != ':' && token[start - 1] != '.') continue;
      for (size_t stop = token.size(); stop >= start + 7; --stop) {
        if (stop < token.size() && token[stop] != ':' && token[stop] != '.') continue;
        const std::string part = token.substr(start, stop - start);
        if (inet_pton(AF_INET, part.c_str(), address) == 1) return true;
      }
    }
  }
  return false;
}

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
    std::string_view name = View(member.name);
    const rapidjson::Value& value = member.value;
    // Plausible's short keys name the same fields (see the header).
    static constexpr std::pair<std::string_view, std::string_view> kPlausibleKeys[] = {
        {"n", "name"}, {"u", "url"}, {"r", "referrer"}, {"w", "screen"}, {"p", "props"},
        {"h", "h"},    {"d", "d"}};
    for (const auto& [short_name, long_name] : kPlausibleKeys) {
      if (name == short_name) {
        name = long_name;
        event.plausible = true;
      }
    }
    if (value.IsNull()) continue;
    if (name == "d") {
      if (!value.IsString()) return InvalidArgumentError("d must be a string");
    } else if (name == "h") {
      if (!value.IsNumber()) return InvalidArgumentError("h must be 0 or 1");
      event.hash_mode = value.GetDouble() == 1;
    } else if (name == "props" && event.plausible && value.IsString()) {
      // Plausible's trackers send the props object as its JSON text.
      rapidjson::Document props;
      props.Parse<rapidjson::kParseValidateEncodingFlag>(value.GetString(), value.GetStringLength());
      if (props.HasParseError()) return InvalidArgumentError("p must be a JSON object");
      RETURN_IF_ERROR(ParseProps(props, event, /*scalars=*/true));
    } else if (name == "path" || name == "referrer" || name == "url") {
      if (!value.IsString()) return InvalidArgumentError(std::string(name) + " must be a string");
      std::string text(View(value));
      if (name == "path") {
        event.path = std::move(text);
      } else if (name == "url") {
        event.url = std::move(text);
      } else {
        event.referrer = std::move(text);
      }
    } else if (name == "screen") {
      if (!value.IsNumber() || value.GetDouble() < 0 || value.GetDouble() > 100000) {
        return InvalidArgumentError("screen must be a width in pixels, 0..100000");
      }
      event.screen_width = static_cast<int>(value.GetDouble());
    } else if (name == "name") {
      if (!value.IsString()) return InvalidArgumentError("name must be a string");
      const std::string_view event_name = View(value);
      if (event_name == "pageview") continue;
      RETURN_IF_ERROR(CheckEventName(event_name));
      event.name = std::string(event_name);
    } else if (name == "props") {
      RETURN_IF_ERROR(ParseProps(value, event, /*scalars=*/event.plausible));
    } else if (name == "utm") {
      RETURN_IF_ERROR(ParseCampaign(value, event));
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
