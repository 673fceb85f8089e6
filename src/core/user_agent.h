// What a request's User-Agent says about who sent it (browser family, OS family, device class, and
// whether it is a bot), and whether a request is a speculative prefetch rather than a visit. Pure
// functions with no allocation; thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace footfall::core {

enum class DeviceClass { kDesktop, kMobile, kTablet, kBot, kUnknown };

// "desktop", "mobile", "tablet", "bot" or "unknown": the names for rollups and stats.
std::string_view DeviceClassName(DeviceClass device);

// Values of UserAgentInfo::bot_kind, the reason a user agent is not counted as a human:
// search, SEO and AI crawlers; headless and audit browsers (HeadlessChrome, Lighthouse); chat and
// social link unfurlers; HTTP libraries and tools (curl, requests, okhttp); uptime monitors; and
// requests whose User-Agent is empty or blank.
inline constexpr std::string_view kBotKindCrawler = "crawler";
inline constexpr std::string_view kBotKindHeadless = "headless";
inline constexpr std::string_view kBotKindLinkPreview = "link_preview";
inline constexpr std::string_view kBotKindHttpLibrary = "http_library";
inline constexpr std::string_view kBotKindMonitor = "monitor";
inline constexpr std::string_view kBotKindNoUserAgent = "no_user_agent";

// Every string_view in here points to static storage, never into the classified user agent, so a
// UserAgentInfo outlives its input.
struct UserAgentInfo {
  // Browser family: "Chrome", "Firefox", "Safari", "Edge", "Opera", "Samsung Internet",
  // "Yandex Browser", "UC Browser", "Vivaldi", "DuckDuckGo" or "Other".
  std::string_view browser = "Other";
  // OS family: "Windows", "macOS", "iOS", "iPadOS", "Android", "Linux", "ChromeOS" or "Other".
  std::string_view os = "Other";
  // kBot whenever is_bot; otherwise from the OS and the Mobile/Tablet tokens.
  DeviceClass device = DeviceClass::kUnknown;
  // Crawlers, headless browsers, link-preview fetchers, HTTP libraries, uptime monitors, and
  // requests without a user agent.
  bool is_bot = false;
  // One of the kBotKind* values when is_bot, else "".
  std::string_view bot_kind = "";
};

// Real user agents are under 300 bytes; anything past this is ignored by ClassifyUserAgent.
inline constexpr size_t kMaxClassifiedUserAgentBytes = 512;

// The device class a recorded visit stores: DeviceClassName(info.device), except that HTTP
// libraries and scripts (which are counted) are "non_browser".
std::string_view VisitDeviceClass(const UserAgentInfo& info);

// Classifies a User-Agent header value by case-insensitive token search (no regex). Never fails:
// anything unrecognised is browser "Other", os "Other", device kUnknown and not a bot.
//
// - An empty or all-blank user agent is a bot of kind kBotKindNoUserAgent: every browser sends one,
//   so its absence means a script.
// - For bots, browser and os are what the string claims (the smartphone Googlebot yields Chrome on
//   Android); count browser and OS families only for humans.
// - Known limitation: Safari on iPadOS 13+ sends the macOS desktop user agent by default and is
//   classified as Safari, macOS, desktop. Only the client (e.g. navigator.maxTouchPoints) can tell.
// - Only the first kMaxClassifiedUserAgentBytes bytes are examined.
UserAgentInfo ClassifyUserAgent(std::string_view user_agent);

// True if the request is a speculative load rather than a visit: any of the headers `Purpose`,
// `Sec-Purpose` or `X-Moz` (each nullopt when absent) lists the token "prefetch", case-insensitive,
// with or without parameters ("prefetch", "prefetch;prerender", "prefetch;anonymous-client-ip").
bool IsPrefetch(std::optional<std::string_view> purpose,
                std::optional<std::string_view> sec_purpose, std::optional<std::string_view> x_moz);

}  // namespace footfall::core
