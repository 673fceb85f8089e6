#include "core/user_agent.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <vector>

#include "core/crawler_list.h"

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

// Every substring the classifier looks for, in lower case. footfall's own bot signatures come
// first: named ones (each with its category), then the generic tokens, which only say "crawler"
// when nothing more specific matched, not even an HTTP library (node-fetch's default user agent
// carries a "+https://" URL). The crawler-user-agents list covers far more (DefaultBotMatcher);
// these stay for what it misses and where footfall's category is the more specific one.
struct Token {
  std::string_view text;
  std::optional<BotCategory> bot = std::nullopt;  // nullopt for browser, OS and device tokens
  bool generic = false;                           // a generic bot token (with bot kCrawler)
};

constexpr Token Named(std::string_view text, BotCategory category) { return {text, category}; }
constexpr Token Generic(std::string_view text) { return {text, BotCategory::kCrawler, true}; }

constexpr Token kTokens[] = {
    // Headless and audit browsers: otherwise full browser user agents.
    Named("headless", BotCategory::kHeadless),
    Named("phantomjs", BotCategory::kHeadless),
    Named("lighthouse", BotCategory::kHeadless),  // also "Chrome-Lighthouse" (PageSpeed Insights)
    Named("slimerjs", BotCategory::kHeadless),
    // Uptime monitors.
    Named("uptimerobot", BotCategory::kMonitor),
    Named("pingdom", BotCategory::kMonitor),
    Named("statuscake", BotCategory::kMonitor),
    Named("site24x7", BotCategory::kMonitor),
    Named("betteruptime", BotCategory::kMonitor),
    Named("better uptime", BotCategory::kMonitor),
    Named("uptime-kuma", BotCategory::kMonitor),
    // Link-preview fetchers of chat and social apps.
    // Also Apple Messages, which borrows it.
    Named("facebookexternalhit", BotCategory::kLinkPreview),
    Named("facebookcatalog", BotCategory::kLinkPreview),
    Named("twitterbot", BotCategory::kLinkPreview),
    Named("slackbot", BotCategory::kLinkPreview),  // also "Slackbot-LinkExpanding"
    Named("slack-imgproxy", BotCategory::kLinkPreview),
    Named("discordbot", BotCategory::kLinkPreview),
    Named("linkedinbot", BotCategory::kLinkPreview),  // sends "Apache-HttpClient" too
    Named("whatsapp", BotCategory::kLinkPreview),
    Named("telegrambot", BotCategory::kLinkPreview),
    Named("pinterestbot", BotCategory::kLinkPreview),
    Named("redditbot", BotCategory::kLinkPreview),
    Named("embedly", BotCategory::kLinkPreview),
    Named("skypeuripreview", BotCategory::kLinkPreview),
    Named("iframely", BotCategory::kLinkPreview),
    Named("vkshare", BotCategory::kLinkPreview),
    Named("mastodon/", BotCategory::kLinkPreview),
    Named("snap url preview", BotCategory::kLinkPreview),
    // Crawlers whose names the generic tokens miss.
    Named("baiduspider", BotCategory::kCrawler),
    Named("mediapartners-google", BotCategory::kCrawler),
    Named("google-inspectiontool", BotCategory::kCrawler),
    Named("googleother", BotCategory::kCrawler),
    Named("feedfetcher-google", BotCategory::kFeedReader),
    Named("claude-web", BotCategory::kCrawler),
    Named("anthropic-ai", BotCategory::kCrawler),
    Named("bytespider", BotCategory::kCrawler),
    Named("slurp", BotCategory::kCrawler),
    Named("scrapy", BotCategory::kCrawler),
    // Generic tokens. "bot" as a word is checked separately (see ContainsBotWord).
    Generic("crawl"),
    Generic("spider"),
    // Crawlers put a contact URL in their user agent ("+http://www.google.com/bot.html").
    Generic("+http"),

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
  while (count < kTokenCount && kTokens[count].bot.has_value()) ++count;
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
    if (i >= kBotTokenCount && kTokens[i].bot.has_value()) return false;
    if (i > 0 && kTokens[i - 1].generic && i < kBotTokenCount && !kTokens[i].generic) return false;
    for (size_t j = 0; j < i; ++j) {
      if (kTokens[j].text == text) return false;
    }
  }
  return true;
}

static_assert(TokensAreWellFormed(),
              "tokens must be unique, lower case, at least 2 bytes, bot signatures first (named, "
              "then generic)");

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

  constexpr bool Has(size_t token) const { return (words_[token / 64] >> (token % 64)) & 1; }

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
// user agent is read once however many tokens there are (a find() per token would read it once
// per token).
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

std::string_view BotKindName(BotCategory category) {
  switch (category) {
    case BotCategory::kHeadless:
      return kBotKindHeadless;
    case BotCategory::kLinkPreview:
      return kBotKindLinkPreview;
    case BotCategory::kMonitor:
      return kBotKindMonitor;
    case BotCategory::kFeedReader:
      return kBotKindFeedReader;
    case BotCategory::kScanner:
      return kBotKindScanner;
    case BotCategory::kCrawler:
    case BotCategory::kListedLibrary:
      return kBotKindCrawler;
    case BotCategory::kHttpLibrary:
      return kBotKindHttpLibrary;
  }
  return kBotKindCrawler;
}

// The order of ClassifyUserAgent's comment. `user_agent` is the original text: the list's patterns
// are case-sensitive, as its authors wrote and test them.
std::string_view BotKind(const TokenSet& found, std::string_view lower, std::string_view user_agent,
                         const BotMatcher& matcher) {
  BotCategories categories;
  if (StatusOr<BotCategories> listed = matcher.Match(user_agent); listed.ok()) categories = *listed;
  bool generic = false;
  for (size_t token = 0; token < kBotTokenCount; ++token) {
    if (!found.Has(token)) continue;
    if (kTokens[token].generic) {
      generic = true;
    } else {
      categories.Add(*kTokens[token].bot);
    }
  }
  if (!categories.empty() && categories.Strongest() < BotCategory::kListedLibrary) {
    return BotKindName(categories.Strongest());
  }
  if (categories.Has(BotCategory::kHttpLibrary)) return kBotKindHttpLibrary;
  if (categories.Has(BotCategory::kListedLibrary) || generic || ContainsBotWord(lower)) {
    return kBotKindCrawler;
  }
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

// The one list of HTTP libraries (see HttpLibraryPatterns in the header; README "Bots" names them).
// Case-insensitive like the token search. The version that follows the name is not checked.
constexpr BotPattern kHttpLibraryPatterns[] = {
    {R"((?i)^curl(/|$))", BotCategory::kHttpLibrary},
    {R"((?i)^wget/)", BotCategory::kHttpLibrary},
    {R"((?i)^python-requests/)", BotCategory::kHttpLibrary},
    {R"((?i)^python-urllib/)", BotCategory::kHttpLibrary},
    {R"((?i)^python-httpx/)", BotCategory::kHttpLibrary},
    {R"((?i)^python/[0-9.]+ aiohttp/)", BotCategory::kHttpLibrary},
    {R"((?i)^go-http-client/)", BotCategory::kHttpLibrary},
    {R"((?i)^okhttp/)", BotCategory::kHttpLibrary},
    {R"((?i)^java/)", BotCategory::kHttpLibrary},  // HttpURLConnection
    {R"((?i)^apache-httpclient/)", BotCategory::kHttpLibrary},
    {R"((?i)^ahc/)", BotCategory::kHttpLibrary},  // AsyncHttpClient
    {R"((?i)^libwww-perl/)", BotCategory::kHttpLibrary},
    {R"((?i)^lwp-trivial/)", BotCategory::kHttpLibrary},
    {R"((?i)^node-fetch(/|$))", BotCategory::kHttpLibrary},
    {R"((?i)^(node|undici)$)", BotCategory::kHttpLibrary},  // Node's fetch()
    {R"((?i)^axios/)", BotCategory::kHttpLibrary},
    {R"((?i)^got( |/|$))", BotCategory::kHttpLibrary},
    {R"((?i)^guzzlehttp/)", BotCategory::kHttpLibrary},
    {R"((?i)^php-curl-class/)", BotCategory::kHttpLibrary},
    {R"((?i)^postmanruntime/)", BotCategory::kHttpLibrary},
    {R"((?i)^httpie/)", BotCategory::kHttpLibrary},
    {R"((?i)^reqwest/)", BotCategory::kHttpLibrary},
    {R"((?i)^mozilla/5\.0 \([^)]*\) windowspowershell/)", BotCategory::kHttpLibrary},
};

std::unique_ptr<BotMatcher> BuildDefaultBotMatcher() {
  std::vector<BotPattern> patterns(CrawlerListPatterns().begin(), CrawlerListPatterns().end());
  patterns.insert(patterns.end(), std::begin(kHttpLibraryPatterns), std::end(kHttpLibraryPatterns));
  StatusOr<std::unique_ptr<BotMatcher>> matcher = BotMatcher::Create(patterns);
  if (!matcher.ok()) {
    // Compiled-in data that the unit tests compile: this is a build defect, not a runtime error.
    std::fprintf(stderr, "footfall: the compiled-in bot patterns do not compile: %s\n",
                 matcher.status().message().c_str());
    std::abort();
  }
  return *std::move(matcher);
}

}  // namespace

std::span<const BotPattern> HttpLibraryPatterns() { return kHttpLibraryPatterns; }

const BotMatcher& DefaultBotMatcher() {
  // Never destroyed: request threads may still classify while the process exits.
  static const BotMatcher* const matcher = BuildDefaultBotMatcher().release();
  return *matcher;
}

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

std::string_view DropReason(const UserAgentInfo& info, bool drop_http_libraries) {
  if (!info.is_bot) return "";
  if (!drop_http_libraries &&
      (info.bot_kind == kBotKindHttpLibrary || info.bot_kind == kBotKindNoUserAgent)) {
    return "";
  }
  return info.bot_kind;
}

UserAgentInfo ClassifyUserAgent(std::string_view user_agent) {
  return ClassifyUserAgent(user_agent, DefaultBotMatcher());
}

UserAgentInfo ClassifyUserAgent(std::string_view user_agent, const BotMatcher& matcher) {
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
  info.bot_kind = BotKind(found, lower, user_agent.substr(0, size), matcher);
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
