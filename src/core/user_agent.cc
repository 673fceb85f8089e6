#include "core/user_agent.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <initializer_list>
#include <iterator>

namespace footfall::core {
namespace {

constexpr char ToLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

constexpr bool IsAsciiAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

constexpr bool IsBlank(char c) { return c == ' ' || c == '\t'; }

std::string_view TrimBlanks(std::string_view text) {
  while (!text.empty() && IsBlank(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsBlank(text.back())) text.remove_suffix(1);
  return text;
}

// Every substring the classifier looks for, in lower case. Bot signatures come first, in
// priority order: the lowest-numbered one present decides the bot kind, so specific families
// precede the generic tokens at the end (Twitterbot also matches "+http"), and link previews
// precede HTTP libraries (LinkedInBot sends "Apache-HttpClient").
struct Token {
  std::string_view text;
  std::string_view bot_kind = "";  // "" for tokens that only identify a browser, OS or device
};

constexpr Token kTokens[] = {
    // Headless and audit browsers: otherwise full browser user agents.
    {"headless", kBotKindHeadless},
    {"phantomjs", kBotKindHeadless},
    {"lighthouse", kBotKindHeadless},  // also "Chrome-Lighthouse" (PageSpeed Insights)
    {"slimerjs", kBotKindHeadless},
    // Uptime monitors.
    {"uptimerobot", kBotKindMonitor},
    {"pingdom", kBotKindMonitor},
    {"statuscake", kBotKindMonitor},
    {"site24x7", kBotKindMonitor},
    {"betteruptime", kBotKindMonitor},
    {"better uptime", kBotKindMonitor},
    {"uptime-kuma", kBotKindMonitor},
    // Link-preview fetchers of chat and social apps.
    {"facebookexternalhit", kBotKindLinkPreview},  // also Apple Messages, which borrows it
    {"facebookcatalog", kBotKindLinkPreview},
    {"twitterbot", kBotKindLinkPreview},
    {"slackbot", kBotKindLinkPreview},  // also "Slackbot-LinkExpanding"
    {"slack-imgproxy", kBotKindLinkPreview},
    {"discordbot", kBotKindLinkPreview},
    {"linkedinbot", kBotKindLinkPreview},
    {"whatsapp", kBotKindLinkPreview},
    {"telegrambot", kBotKindLinkPreview},
    {"pinterestbot", kBotKindLinkPreview},
    {"redditbot", kBotKindLinkPreview},
    {"embedly", kBotKindLinkPreview},
    {"skypeuripreview", kBotKindLinkPreview},
    {"iframely", kBotKindLinkPreview},
    {"vkshare", kBotKindLinkPreview},
    {"mastodon/", kBotKindLinkPreview},
    {"snap url preview", kBotKindLinkPreview},
    // HTTP client libraries and command-line tools.
    {"curl/", kBotKindHttpLibrary},
    {"wget/", kBotKindHttpLibrary},
    {"python-requests", kBotKindHttpLibrary},
    {"python-urllib", kBotKindHttpLibrary},
    {"python-httpx", kBotKindHttpLibrary},
    {"aiohttp", kBotKindHttpLibrary},
    {"go-http-client", kBotKindHttpLibrary},
    {"okhttp", kBotKindHttpLibrary},
    {"java/", kBotKindHttpLibrary},
    {"libwww-perl", kBotKindHttpLibrary},
    {"node-fetch", kBotKindHttpLibrary},
    {"axios/", kBotKindHttpLibrary},
    {"undici", kBotKindHttpLibrary},
    {"apache-httpclient", kBotKindHttpLibrary},
    {"guzzlehttp", kBotKindHttpLibrary},
    {"postmanruntime", kBotKindHttpLibrary},
    {"httpie", kBotKindHttpLibrary},
    {"reqwest", kBotKindHttpLibrary},
    {"windowspowershell", kBotKindHttpLibrary},
    // Crawlers whose names the generic tokens miss.
    {"baiduspider", kBotKindCrawler},
    {"mediapartners-google", kBotKindCrawler},
    {"google-inspectiontool", kBotKindCrawler},
    {"googleother", kBotKindCrawler},
    {"feedfetcher-google", kBotKindCrawler},
    {"claude-web", kBotKindCrawler},
    {"anthropic-ai", kBotKindCrawler},
    {"bytespider", kBotKindCrawler},
    {"slurp", kBotKindCrawler},
    {"scrapy", kBotKindCrawler},
    // Generic tokens. "bot" as a word is checked separately (see ContainsBotWord).
    {"crawl", kBotKindCrawler},
    {"spider", kBotKindCrawler},
    // Crawlers put a contact URL in their user agent ("+http://www.google.com/bot.html").
    {"+http", kBotKindCrawler},

    // Browsers.
    {"edg/"},
    {"edge/"},
    {"edga/"},
    {"edgios/"},
    {"opr/"},
    {"opt/"},
    {"opios/"},
    {"opera"},
    {"samsungbrowser/"},
    {"yabrowser/"},
    {"ucbrowser/"},
    {"vivaldi/"},
    {"duckduckgo/"},
    {"ddg/"},
    {"firefox/"},
    {"fxios/"},
    {"chrome/"},
    {"crios/"},
    {"chromium/"},
    {"safari/"},
    {"version/"},
    // Operating systems and devices.
    {"windows"},
    {"windows phone"},
    {"android"},
    {"; cros "},  // a bare "cros" would match "Microsoft"
    {"ipad"},
    {"iphone"},
    {"ipod"},
    {"macintosh"},
    {"mac os x"},
    {"linux"},
    {"x11"},
    {"mobi"},  // "Mobile", and the "Mobi" that MDN recommends testing for
    {"tablet"},
    {"opera mini"},
};

constexpr size_t kTokenCount = std::size(kTokens);

constexpr size_t CountBotTokens() {
  size_t count = 0;
  while (count < kTokenCount && !kTokens[count].bot_kind.empty()) ++count;
  return count;
}

constexpr size_t kBotTokenCount = CountBotTokens();

constexpr bool TokensAreWellFormed() {
  for (size_t i = 0; i < kTokenCount; ++i) {
    const std::string_view text = kTokens[i].text;
    if (text.size() < 2) return false;
    for (char c : text) {
      if (c >= 'A' && c <= 'Z') return false;
    }
    if (i >= kBotTokenCount && !kTokens[i].bot_kind.empty()) return false;
    for (size_t j = 0; j < i; ++j) {
      if (kTokens[j].text == text) return false;
    }
  }
  return true;
}

static_assert(TokensAreWellFormed(),
              "tokens must be unique, lower case, at least 2 bytes, bot signatures first");

// Which of kTokens a user agent contains.
class TokenSet {
 public:
  constexpr void Add(size_t token) { words_[token / 64] |= uint64_t{1} << (token % 64); }

  constexpr bool Intersects(const TokenSet& other) const {
    for (size_t i = 0; i < words_.size(); ++i) {
      if ((words_[i] & other.words_[i]) != 0) return true;
    }
    return false;
  }

  // The lowest-numbered token present, or kTokenCount if none.
  size_t First() const {
    for (size_t i = 0; i < words_.size(); ++i) {
      if (words_[i] != 0) return i * 64 + static_cast<size_t>(std::countr_zero(words_[i]));
    }
    return kTokenCount;
  }

 private:
  std::array<uint64_t, (kTokenCount + 63) / 64> words_{};
};

// A set naming tokens by their text, resolved at compile time: a misspelt token does not compile.
consteval TokenSet AnyOf(std::initializer_list<std::string_view> texts) {
  TokenSet set;
  for (std::string_view text : texts) {
    size_t token = 0;
    while (token < kTokenCount && kTokens[token].text != text) ++token;
    if (token == kTokenCount) throw "not in kTokens";
    set.Add(token);
  }
  return set;
}

// The scan looks up each pair of adjacent bytes in a table of the tokens that start with it, so a
// user agent is read once however many tokens there are (a find() per token cost ~1.3 µs).
constexpr size_t kBigramBuckets = 1024;

constexpr size_t BigramBucket(char first, char second) {
  return (static_cast<unsigned char>(first) * 31u + static_cast<unsigned char>(second)) %
         kBigramBuckets;
}

struct BigramIndex {
  // Tokens starting with a bigram of bucket b are tokens[bucket_start[b]..bucket_start[b + 1]).
  std::array<uint16_t, kBigramBuckets + 1> bucket_start{};
  std::array<uint8_t, kTokenCount> tokens{};
};

constexpr BigramIndex BuildBigramIndex() {
  BigramIndex index;
  for (const Token& token : kTokens) {
    ++index.bucket_start[BigramBucket(token.text[0], token.text[1]) + 1];
  }
  for (size_t b = 0; b < kBigramBuckets; ++b) index.bucket_start[b + 1] += index.bucket_start[b];
  std::array<uint16_t, kBigramBuckets> next = {};
  for (size_t b = 0; b < kBigramBuckets; ++b) next[b] = index.bucket_start[b];
  for (size_t t = 0; t < kTokenCount; ++t) {
    index.tokens[next[BigramBucket(kTokens[t].text[0], kTokens[t].text[1])]++] =
        static_cast<uint8_t>(t);
  }
  return index;
}

static_assert(kTokenCount <= 256, "BigramIndex stores token numbers in a byte");
constexpr BigramIndex kBigramIndex = BuildBigramIndex();

TokenSet FindTokens(std::string_view lower) {
  TokenSet found;
  for (size_t at = 0; at + 1 < lower.size(); ++at) {
    const size_t bucket = BigramBucket(lower[at], lower[at + 1]);
    for (size_t i = kBigramIndex.bucket_start[bucket]; i < kBigramIndex.bucket_start[bucket + 1];
         ++i) {
      const size_t token = kBigramIndex.tokens[i];
      if (lower.substr(at).starts_with(kTokens[token].text)) found.Add(token);
    }
  }
  return found;
}

// "bot" or "bots" followed by a non-alphanumeric character or the end, as in "Googlebot/2.1",
// "AdsBot-Google", "GPTBot;", "Pingdom.com_bot_version". Not "Cubot" (an Android phone brand that
// appears in model names) nor words such as "bottom".
bool ContainsBotWord(std::string_view lower) {
  for (size_t at = lower.find("bot"); at != lower.npos; at = lower.find("bot", at + 1)) {
    if (at >= 2 && lower.substr(at - 2, 2) == "cu") continue;
    size_t end = at + 3;
    if (end < lower.size() && lower[end] == 's') ++end;
    if (end == lower.size() || !IsAsciiAlnum(lower[end])) return true;
  }
  return false;
}

std::string_view BotKind(const TokenSet& found, std::string_view lower) {
  const size_t first = found.First();
  if (first < kBotTokenCount) return kTokens[first].bot_kind;
  if (ContainsBotWord(lower)) return kBotKindCrawler;
  return "";
}

struct FamilyRule {
  std::string_view family;
  TokenSet any_of;
};

// First match wins. Edge, Opera, Samsung Internet and the other Chromium browsers also send
// "Chrome/", and Chrome also sends "Safari/".
constexpr FamilyRule kBrowserRules[] = {
    {"Edge", AnyOf({"edg/", "edge/", "edga/", "edgios/"})},
    {"Opera", AnyOf({"opr/", "opt/", "opios/", "opera"})},
    {"Samsung Internet", AnyOf({"samsungbrowser/"})},
    {"Yandex Browser", AnyOf({"yabrowser/"})},
    {"UC Browser", AnyOf({"ucbrowser/"})},
    {"Vivaldi", AnyOf({"vivaldi/"})},
    {"DuckDuckGo", AnyOf({"duckduckgo/", "ddg/"})},
    {"Firefox", AnyOf({"firefox/", "fxios/"})},
    {"Chrome", AnyOf({"chrome/", "crios/", "chromium/"})},
};

std::string_view BrowserFamily(const TokenSet& found) {
  for (const FamilyRule& rule : kBrowserRules) {
    if (found.Intersects(rule.any_of)) return rule.family;
  }
  // Safari sends "Version/"; in-app web views (Google app, Instagram…) send "Safari/" without it.
  // The old Android stock browser sent both.
  constexpr TokenSet kSafari = AnyOf({"safari/"});
  constexpr TokenSet kVersion = AnyOf({"version/"});
  constexpr TokenSet kAndroid = AnyOf({"android"});
  if (found.Intersects(kSafari) && found.Intersects(kVersion) && !found.Intersects(kAndroid)) {
    return "Safari";
  }
  return "Other";
}

// First match wins. Android sends "Linux", iOS sends "like Mac OS X", ChromeOS sends "X11".
constexpr FamilyRule kOsRules[] = {
    {"Windows", AnyOf({"windows"})},
    {"Android", AnyOf({"android"})},
    {"ChromeOS", AnyOf({"; cros "})},  // "(X11; CrOS x86_64 14541.0.0)"
    {"iPadOS", AnyOf({"ipad"})},
    {"iOS", AnyOf({"iphone", "ipod"})},
    {"macOS", AnyOf({"macintosh", "mac os x"})},
    {"Linux", AnyOf({"linux"})},
};

std::string_view OsFamily(const TokenSet& found) {
  for (const FamilyRule& rule : kOsRules) {
    if (found.Intersects(rule.any_of)) return rule.family;
  }
  return "Other";
}

DeviceClass DeviceFor(std::string_view os, const TokenSet& found) {
  constexpr TokenSet kMobileMarkers = AnyOf({"mobi", "opera mini"});
  constexpr TokenSet kPhoneWindows = AnyOf({"windows phone"});
  constexpr TokenSet kTabletMarker = AnyOf({"tablet"});
  constexpr TokenSet kX11 = AnyOf({"x11"});
  if (os == "iPadOS") return DeviceClass::kTablet;
  if (os == "iOS") return DeviceClass::kMobile;
  // Android tablets omit "Mobile" (Firefox says "Tablet"); Opera Mini says neither.
  if (os == "Android") {
    return found.Intersects(kMobileMarkers) ? DeviceClass::kMobile : DeviceClass::kTablet;
  }
  if (os == "Windows") {
    return found.Intersects(kPhoneWindows) ? DeviceClass::kMobile : DeviceClass::kDesktop;
  }
  if (os == "macOS" || os == "Linux" || os == "ChromeOS") return DeviceClass::kDesktop;
  if (found.Intersects(kTabletMarker)) return DeviceClass::kTablet;
  if (found.Intersects(kMobileMarkers)) return DeviceClass::kMobile;
  if (found.Intersects(kX11)) return DeviceClass::kDesktop;  // BSDs and other Unix desktops
  return DeviceClass::kUnknown;
}

// Whether a structured-field list such as "prefetch;prerender, other" has "prefetch" as an item.
bool ListsPrefetch(std::optional<std::string_view> header_value) {
  if (!header_value.has_value()) return false;
  std::string_view rest = *header_value;
  while (true) {
    const size_t comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    item = TrimBlanks(item.substr(0, item.find(';')));
    constexpr std::string_view kPrefetch = "prefetch";
    if (item.size() == kPrefetch.size()) {
      bool equal = true;
      for (size_t i = 0; i < item.size(); ++i) equal = equal && ToLower(item[i]) == kPrefetch[i];
      if (equal) return true;
    }
    if (comma == rest.npos) return false;
    rest.remove_prefix(comma + 1);
  }
}

}  // namespace

std::string_view DeviceClassName(DeviceClass device) {
  switch (device) {
    case DeviceClass::kDesktop:
      return "desktop";
    case DeviceClass::kMobile:
      return "mobile";
    case DeviceClass::kTablet:
      return "tablet";
    case DeviceClass::kBot:
      return "bot";
    case DeviceClass::kUnknown:
      return "unknown";
  }
  return "unknown";
}

std::string_view VisitDeviceClass(const UserAgentInfo& info) {
  return info.is_bot ? "non_browser" : DeviceClassName(info.device);
}

UserAgentInfo ClassifyUserAgent(std::string_view user_agent) {
  UserAgentInfo info;
  if (TrimBlanks(user_agent).empty()) {
    info.device = DeviceClass::kBot;
    info.is_bot = true;
    info.bot_kind = kBotKindNoUserAgent;
    return info;
  }
  // Lower-cased once into a stack buffer, so matching is a plain byte comparison.
  std::array<char, kMaxClassifiedUserAgentBytes> buffer;
  const size_t size = std::min(user_agent.size(), buffer.size());
  for (size_t i = 0; i < size; ++i) buffer[i] = ToLower(user_agent[i]);
  const std::string_view lower(buffer.data(), size);

  const TokenSet found = FindTokens(lower);
  info.browser = BrowserFamily(found);
  info.os = OsFamily(found);
  info.bot_kind = BotKind(found, lower);
  info.is_bot = !info.bot_kind.empty();
  info.device = info.is_bot ? DeviceClass::kBot : DeviceFor(info.os, found);
  return info;
}

bool IsPrefetch(std::optional<std::string_view> purpose,
                std::optional<std::string_view> sec_purpose,
                std::optional<std::string_view> x_moz) {
  return ListsPrefetch(purpose) || ListsPrefetch(sec_purpose) || ListsPrefetch(x_moz);
}

}  // namespace footfall::core
