// libFuzzer target: arbitrary bytes as the body of POST /api/event (core::ParseEventBody). What
// parses must keep the documented bounds: a screen width in 0..100000 and a known screen class, an
// event name and properties within their limits (sorted, unique keys, no IP address), campaign
// values normalised.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/campaign.h"
#include "core/event_body.h"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto body = footfall::core::ParseEventBody(input);
  if (!body.ok()) {
    Check(!body.status().message().empty());
    return 0;
  }
  Check(body->screen_width >= 0 && body->screen_width <= 100000);
  const std::string_view screen = footfall::core::ScreenClass(body->screen_width);
  Check(screen.empty() == (body->screen_width == 0));
  using namespace footfall::core;
  Check(body->name.empty() || CheckEventName(body->name).ok());
  Check(body->name != "pageview");
  Check(body->props.size() <= kMaxProps);
  for (size_t i = 0; i < body->props.size(); ++i) {
    const auto& [key, value] = body->props[i];
    Check(!key.empty() && key.size() <= kMaxPropKeyBytes && value.size() <= kMaxPropValueBytes);
    Check(!ContainsIpAddress(value));
    Check(i == 0 || body->props[i - 1].first < key);
  }
  for (const std::string* value : {&body->campaign.source, &body->campaign.medium,
                                   &body->campaign.name, &body->campaign.content,
                                   &body->campaign.term}) {
    Check(value->size() <= kMaxCampaignValueBytes);
    Check(value->empty() || NormalizeCampaignValue(*value) == *value);
  }
  return 0;
}
