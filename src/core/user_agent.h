// What a request's User-Agent says about who sent it (browser family, OS family, device class,
// and whether it is a bot, from footfall's own signatures and the crawler-user-agents list), and
// whether a request is a speculative prefetch rather than a visit. Thread-safe functions; see
// user_agent_cache.h for the cached form the request path uses.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>

#include "core/bot_matcher.h"

namespace footfall::core {

enum class DeviceClass { kDesktop, kMobile, kTablet, kBot, kUnknown };

// "desktop", "mobile", "tablet", "bot" or "unknown": the names for rollups and stats.
std::string_view DeviceClassName(DeviceClass device);

// Values of UserAgentInfo::bot_kind, the reason a user agent is not counted as a human (and the
// drop reasons of stats and metrics): search, SEO, AI, advertising and archive crawlers; headless
// and audit browsers (HeadlessChrome, Lighthouse); chat and social link unfurlers; uptime and link
// monitors; feed readers; security and internet-wide scanners; HTTP libraries (HttpLibraryPatterns:
// curl, requests, okhttp); and requests whose User-Agent is empty or blank.
inline constexpr std::string_view kBotKindCrawler = "crawler";
inline constexpr std::string_view kBotKindHeadless = "headless";
inline constexpr std::string_view kBotKindLinkPreview = "link_preview";
inline constexpr std::string_view kBotKindMonitor = "monitor";
inline constexpr std::string_view kBotKindFeedReader = "feed_reader";
inline constexpr std::string_view kBotKindScanner = "scanner";
inline constexpr std::string_view kBotKindHttpLibrary = "http_library";
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
  // Crawlers, headless browsers, link-preview fetchers, monitors, feed readers, scanners, HTTP
  // libraries, and requests without a user agent.
  bool is_bot = false;
  // One of the kBotKind* values when is_bot, else "".
  std::string_view bot_kind = "";
};

// Real user agents are under 300 bytes; anything past this is ignored by ClassifyUserAgent.
inline constexpr size_t kMaxClassifiedUserAgentBytes = 512;

// The device class a recorded visit stores: DeviceClassName(info.device), except that HTTP
// libraries and scripts (which are counted) are "non_browser".
std::string_view VisitDeviceClass(const UserAgentInfo& info);

// footfall's list of HTTP libraries: what scripts and server-side code send when nobody set a user
// agent (curl, Wget, python-requests, Python's urllib, httpx and aiohttp, Go's net/http, OkHttp,
// Java's HttpURLConnection, Apache HttpClient, AsyncHttpClient, libwww-perl, node-fetch, Node's
// fetch (undici), axios, got, Guzzle, PHP-Curl-Class, Postman, HTTPie, reqwest, PowerShell). Each
// pattern is anchored at the start: the library must be the product that sends the request, not a
// part of a crawler's user agent ("serpstatbot/1.0 (...; curl/7.58.0)" is a crawler). Requests from
// them are recorded as device "non_browser" unless DropReason() is told to drop them. RE2 syntax.
std::span<const BotPattern> HttpLibraryPatterns();

// The crawler-user-agents list (crawler_list.h) and HttpLibraryPatterns() in one BotMatcher, built
// on the first call (milliseconds: docs/operations.md#bots) and kept for the life of the
// process. Thread-safe; concurrent first callers wait for the one build. Aborts with a message if a
// compiled-in pattern does not compile, which the unit tests rule out for a built binary.
const BotMatcher& DefaultBotMatcher();

// Classifies a User-Agent header value. Never fails: anything unrecognised is browser "Other", os
// "Other", device kUnknown and not a bot. Browser, OS and device come from a case-insensitive token
// search; whether it is a bot, and why, from those tokens and `matcher`'s patterns together:
//
// 1. An empty or all-blank user agent is a bot of kind kBotKindNoUserAgent: every browser sends
//    one, so its absence means a script.
// 2. Else the most specific category (BotCategory order: headless, link preview, monitor, feed
//    reader, scanner, crawler) among the list patterns that match and footfall's own named
//    signatures (HeadlessChrome, Lighthouse, uptime monitors, chat unfurlers, named crawlers).
// 3. Else an HTTP library (HttpLibraryPatterns) is kBotKindHttpLibrary.
// 4. Else a match of a list pattern tagged "http-library" that is not footfall's HTTP library
//    (Scrapy, crawler4j, Amazon CloudFront, a library named inside another product), or footfall's
//    generic signatures ("crawl", "spider", a "+http" contact URL, "bot" as a word), is a crawler.
//
// - If the matcher fails (its DFA out of memory, which the default budget rules out), the patterns
//   are ignored for this user agent: it fails open, as footfall did before the list.
// - For bots, browser and os are what the string claims (the smartphone Googlebot yields Chrome on
//   Android); count browser and OS families only for humans.
// - Known limitation: Safari on iPadOS 13+ sends the macOS desktop user agent by default and is
//   classified as Safari, macOS, desktop. Only the client (e.g. navigator.maxTouchPoints) can tell.
// - Only the first kMaxClassifiedUserAgentBytes bytes are examined.
UserAgentInfo ClassifyUserAgent(std::string_view user_agent, const BotMatcher& matcher);

// ClassifyUserAgent with DefaultBotMatcher().
UserAgentInfo ClassifyUserAgent(std::string_view user_agent);

// Why a visit from `info` is not recorded, or "" if it is. Bots are dropped with their bot_kind,
// except HTTP libraries and empty user agents, which are recorded (device "non_browser") unless
// `drop_http_libraries`.
std::string_view DropReason(const UserAgentInfo& info, bool drop_http_libraries);

// True if the request is a speculative load rather than a visit: any of the headers `Purpose`,
// `Sec-Purpose` or `X-Moz` (each nullopt when absent) lists the token "prefetch", case-insensitive,
// with or without parameters ("prefetch", "prefetch;prerender", "prefetch;anonymous-client-ip").
bool IsPrefetch(std::optional<std::string_view> purpose,
                std::optional<std::string_view> sec_purpose, std::optional<std::string_view> x_moz);

}  // namespace footfall::core
