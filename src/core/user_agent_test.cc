#include "core/user_agent.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <random>
#include <string>

namespace footfall::core {
namespace {

struct Expected {
  std::string_view user_agent;
  std::string_view browser;
  std::string_view os;
  DeviceClass device;
  std::string_view bot_kind;  // "" for humans
};

constexpr DeviceClass kDesktop = DeviceClass::kDesktop;
constexpr DeviceClass kMobile = DeviceClass::kMobile;
constexpr DeviceClass kTablet = DeviceClass::kTablet;
constexpr DeviceClass kBot = DeviceClass::kBot;

void ExpectClassifiedAs(const Expected& expected) {
  SCOPED_TRACE(expected.user_agent);
  const UserAgentInfo info = ClassifyUserAgent(expected.user_agent);
  EXPECT_EQ(info.browser, expected.browser);
  EXPECT_EQ(info.os, expected.os);
  EXPECT_EQ(DeviceClassName(info.device), DeviceClassName(expected.device));
  EXPECT_EQ(info.is_bot, !expected.bot_kind.empty());
  EXPECT_EQ(info.bot_kind, expected.bot_kind);
}

// Current browsers as they identify themselves (Chrome's reduced UA: "Android 10; K", fixed
// minor versions).
constexpr Expected kBrowsers[] = {
    // Chrome
    {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/120.0.0.0 Safari/537.36",
     "Chrome", "Windows", kDesktop, ""},
    {"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/120.0.0.0 Safari/537.36",
     "Chrome", "macOS", kDesktop, ""},
    {"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
     "Safari/537.36",
     "Chrome", "Linux", kDesktop, ""},
    {"Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/120.0.0.0 Safari/537.36",
     "Chrome", "ChromeOS", kDesktop, ""},
    {"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/120.0.6099.144 Mobile Safari/537.36",
     "Chrome", "Android", kMobile, ""},
    // An Android tablet: same as the phone without "Mobile".
    {"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/120.0.6099.144 Safari/537.36",
     "Chrome", "Android", kTablet, ""},
    {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
     "Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1",
     "Chrome", "iOS", kMobile, ""},
    {"Mozilla/5.0 (iPad; CPU OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1",
     "Chrome", "iPadOS", kTablet, ""},
    // "Cubot" is a phone brand, not a bot.
    {"Mozilla/5.0 (Linux; Android 10; CUBOT X30) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/108.0.0.0 Mobile Safari/537.36",
     "Chrome", "Android", kMobile, ""},
    // Firefox
    {"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0", "Firefox",
     "Windows", kDesktop, ""},
    {"Mozilla/5.0 (Macintosh; Intel Mac OS X 14.2; rv:121.0) Gecko/20100101 Firefox/121.0",
     "Firefox", "macOS", kDesktop, ""},
    {"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0", "Firefox",
     "Linux", kDesktop, ""},
    {"Mozilla/5.0 (X11; FreeBSD amd64; rv:121.0) Gecko/20100101 Firefox/121.0", "Firefox", "Other",
     kDesktop, ""},
    {"Mozilla/5.0 (Android 14; Mobile; rv:121.0) Gecko/121.0 Firefox/121.0", "Firefox", "Android",
     kMobile, ""},
    {"Mozilla/5.0 (Android 14; Tablet; rv:121.0) Gecko/121.0 Firefox/121.0", "Firefox", "Android",
     kTablet, ""},
    {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
     "Gecko) FxiOS/121.0 Mobile/15E148 Safari/605.1.15",
     "Firefox", "iOS", kMobile, ""},
    // Safari
    {"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.2 Safari/605.1.15",
     "Safari", "macOS", kDesktop, ""},
    {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
     "Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
     "Safari", "iOS", kMobile, ""},
    // iPad Safari asking for the mobile site. (By default iPadOS 13+ sends the macOS string above,
    // which is classified as macOS desktop: a documented limitation.)
    {"Mozilla/5.0 (iPad; CPU OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.2 Mobile/15E148 Safari/604.1",
     "Safari", "iPadOS", kTablet, ""},
    // Edge
    {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91",
     "Edge", "Windows", kDesktop, ""},
    {"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91",
     "Edge", "macOS", kDesktop, ""},
    {"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/120.0.0.0 Mobile Safari/537.36 EdgA/120.0.0.0",
     "Edge", "Android", kMobile, ""},
    {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
     "Gecko) Version/17.0 EdgiOS/120.2210.126 Mobile/15E148 Safari/605.1.15",
     "Edge", "iOS", kMobile, ""},
    {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/70.0.3538.102 Safari/537.36 Edge/18.19045",
     "Edge", "Windows", kDesktop, ""},
    // Opera
    {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/119.0.0.0 Safari/537.36 OPR/105.0.0.0",
     "Opera", "Windows", kDesktop, ""},
    {"Mozilla/5.0 (Linux; Android 10; VOG-L29) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/119.0.0.0 Mobile Safari/537.36 OPR/79.1.4195.76505",
     "Opera", "Android", kMobile, ""},
    {"Opera/9.80 (Android; Opera Mini/36.2.2254/119.132; U; id) Presto/2.12.423 Version/12.16",
     "Opera", "Android", kMobile, ""},
    {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
     "Gecko) Version/17.0 Mobile/15E148 Safari/604.1 OPT/4.3.2",
     "Opera", "iOS", kMobile, ""},
    // Samsung Internet
    {"Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
     "SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
     "Samsung Internet", "Android", kMobile, ""},
    {"Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) "
     "SamsungBrowser/23.0 Chrome/115.0.0.0 Safari/537.36",
     "Samsung Internet", "Android", kTablet, ""},
    // Others
    {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/118.0.0.0 YaBrowser/23.11.0.0 Safari/537.36",
     "Yandex Browser", "Windows", kDesktop, ""},
    {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
     "Gecko) Version/17.0 Mobile/15E148 DuckDuckGo/7 Safari/605.1.15",
     "DuckDuckGo", "iOS", kMobile, ""},
    // The Google app's in-app view: "Safari/" without "Version/" is not Safari.
    {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
     "Gecko) GSA/287.0.578788870 Mobile/15E148 Safari/604.1",
     "Other", "iOS", kMobile, ""},
};

constexpr Expected kBots[] = {
    // Search and AI crawlers
    {"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "Other", "Other",
     kBot, kBotKindCrawler},
    {"Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like "
     "Gecko) Chrome/120.0.6099.199 Mobile Safari/537.36 (compatible; Googlebot/2.1; "
     "+http://www.google.com/bot.html)",
     "Chrome", "Android", kBot, kBotKindCrawler},
    {"Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; "
     "+http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36",
     "Chrome", "Other", kBot, kBotKindCrawler},
    {"DuckDuckBot/1.1; (+http://duckduckgo.com/duckduckbot.html)", "Other", "Other", kBot,
     kBotKindCrawler},
    {"Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)", "Other", "Other", kBot,
     kBotKindCrawler},
    {"Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)", "Other",
     "Other", kBot, kBotKindCrawler},
    {"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)",
     "Safari", "macOS", kBot, kBotKindCrawler},
    {"Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)", "Other", "Other", kBot,
     kBotKindCrawler},
    {"Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)", "Other",
     "Other", kBot, kBotKindCrawler},
    {"Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.0; "
     "+https://openai.com/gptbot)",
     "Other", "Other", kBot, kBotKindCrawler},
    {"Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; "
     "+claudebot@anthropic.com)",
     "Other", "Other", kBot, kBotKindCrawler},
    {"CCBot/2.0 (https://commoncrawl.org/faq/)", "Other", "Other", kBot, kBotKindCrawler},
    {"Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; PerplexityBot/1.0; "
     "+https://perplexity.ai/perplexitybot)",
     "Other", "Other", kBot, kBotKindCrawler},
    {"Mozilla/5.0 (compatible; MJ12bot/v1.4.8; http://mj12bot.com/)", "Other", "Other", kBot,
     kBotKindCrawler},
    {"Sogou web spider/4.0(+http://www.sogou.com/docs/help/webmasters.htm#07)", "Other", "Other",
     kBot, kBotKindCrawler},
    {"Mozilla/5.0 (compatible; Yahoo! Slurp; http://help.yahoo.com/help/us/ysearch/slurp)", "Other",
     "Other", kBot, kBotKindCrawler},
    {"Mozilla/5.0 (compatible; ExampleCrawler/1.0)", "Other", "Other", kBot, kBotKindCrawler},
    {"Mediapartners-Google", "Other", "Other", kBot, kBotKindCrawler},
    // Link-preview fetchers
    {"facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", "Other", "Other",
     kBot, kBotKindLinkPreview},
    {"Twitterbot/1.0", "Other", "Other", kBot, kBotKindLinkPreview},
    {"Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", "Other", "Other", kBot,
     kBotKindLinkPreview},
    {"Slack-ImgProxy (+https://api.slack.com/robots)", "Other", "Other", kBot, kBotKindLinkPreview},
    {"Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)", "Other", "Other", kBot,
     kBotKindLinkPreview},
    // Contains "Apache-HttpClient": link previews are checked before HTTP libraries.
    {"LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
     "Other", "Other", kBot, kBotKindLinkPreview},
    {"WhatsApp/2.23.20.0 A", "Other", "Other", kBot, kBotKindLinkPreview},
    {"TelegramBot (like TwitterBot)", "Other", "Other", kBot, kBotKindLinkPreview},
    {"Mozilla/5.0 (compatible; Pinterestbot/1.0; +http://www.pinterest.com/bot.html)", "Other",
     "Other", kBot, kBotKindLinkPreview},
    {"Mozilla/5.0 (compatible; redditbot/1.0; +http://www.reddit.com/feedback)", "Other", "Other",
     kBot, kBotKindLinkPreview},
    {"Mozilla/5.0 (compatible; Embedly/0.2; +http://support.embed.ly/)", "Other", "Other", kBot,
     kBotKindLinkPreview},
    {"Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5 "
     "skype-url-preview@microsoft.com",
     "Other", "Windows", kBot, kBotKindLinkPreview},
    // Apple Messages' preview fetcher.
    {"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_1) AppleWebKit/601.2.4 (KHTML, like Gecko) "
     "Version/9.0.1 Safari/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0",
     "Safari", "macOS", kBot, kBotKindLinkPreview},
    // Headless and audit browsers
    {"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "HeadlessChrome/120.0.6099.109 Safari/537.36",
     "Chrome", "Linux", kBot, kBotKindHeadless},
    {"Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) PhantomJS/2.1.1 "
     "Safari/538.1",
     "Other", "Linux", kBot, kBotKindHeadless},
    {"Mozilla/5.0 (Linux; Android 11; moto g power (2022)) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/120.0.0.0 Mobile Safari/537.36 Chrome-Lighthouse",
     "Chrome", "Android", kBot, kBotKindHeadless},
    // HTTP libraries and tools
    {"curl/7.88.1", "Other", "Other", kBot, kBotKindHttpLibrary},
    {"Wget/1.21.3", "Other", "Other", kBot, kBotKindHttpLibrary},
    {"python-requests/2.31.0", "Other", "Other", kBot, kBotKindHttpLibrary},
    {"Python-urllib/3.11", "Other", "Other", kBot, kBotKindHttpLibrary},
    {"Python/3.11 aiohttp/3.9.1", "Other", "Other", kBot, kBotKindHttpLibrary},
    {"Go-http-client/1.1", "Other", "Other", kBot, kBotKindHttpLibrary},
    {"okhttp/4.12.0", "Other", "Other", kBot, kBotKindHttpLibrary},
    {"Java/17.0.9", "Other", "Other", kBot, kBotKindHttpLibrary},
    {"libwww-perl/6.72", "Other", "Other", kBot, kBotKindHttpLibrary},
    {"node-fetch/1.0 (+https://github.com/bitinn/node-fetch)", "Other", "Other", kBot,
     kBotKindHttpLibrary},
    {"axios/1.6.2", "Other", "Other", kBot, kBotKindHttpLibrary},
    // Uptime monitors
    {"Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)", "Other", "Other",
     kBot, kBotKindMonitor},
    {"Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)", "Other", "Other", kBot,
     kBotKindMonitor},
    {"Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/37.0.2062.124 Safari/537.36 StatusCake",
     "Chrome", "Windows", kBot, kBotKindMonitor},
};

TEST(UserAgentTest, ClassifiesCurrentBrowsers) {
  for (const Expected& expected : kBrowsers) ExpectClassifiedAs(expected);
}

TEST(UserAgentTest, ClassifiesCrawlersLinkPreviewsHeadlessBrowsersLibrariesAndMonitors) {
  for (const Expected& expected : kBots) ExpectClassifiedAs(expected);
}

TEST(UserAgentTest, MatchesTokensCaseInsensitively) {
  ExpectClassifiedAs({"CURL/8.0", "Other", "Other", kBot, kBotKindHttpLibrary});
  ExpectClassifiedAs(
      {"mozilla/5.0 (windows nt 10.0; win64; x64) applewebkit/537.36 (khtml, like "
       "gecko) chrome/120.0.0.0 safari/537.36",
       "Chrome", "Windows", kDesktop, ""});
}

// Issue 22: a library is a visitor's script only when it is the product that sends the request.
TEST(UserAgentTest, HttpLibrariesAreThoseOfTheListAsTheProductNotInsideAnother) {
  for (std::string_view library :
       {"python-requests/2.31.0 (+https://example.com/contact)", "curl", "node", "undici",
        "got (https://github.com/sindresorhus/got)", "GuzzleHttp/7", "PostmanRuntime/7.36.0",
        "Mozilla/5.0 (Windows NT; Windows NT 10.0; en-US) WindowsPowerShell/5.1.19041.3803"}) {
    EXPECT_EQ(ClassifyUserAgent(library).bot_kind, kBotKindHttpLibrary) << library;
  }
  for (std::string_view crawler :
       {"serpstatbot/1.0 (advanced backlink tracking bot; curl/7.58.0; http://serpstatbot.com/)",
        "2Bone_LinkChecker/1.0 libwww-perl/6.03", "Scrapy/2.11.0 (+https://scrapy.org)",
        "Mozilla/5.0 (compatible; Go-http-client/1.1; +centurybot9@gmail.com)",
        "Amazon CloudFront", "crawler4j (https://github.com/yasserg/crawler4j/)"}) {
    EXPECT_EQ(ClassifyUserAgent(crawler).bot_kind, kBotKindCrawler) << crawler;
  }
}

TEST(UserAgentTest, TheListGivesFinerReasons) {
  ExpectClassifiedAs({"Feedly/1.0 (+https://feedly.com/poller.html; 16 subscribers; )", "Other",
                      "Other", kBot, kBotKindFeedReader});
  ExpectClassifiedAs({"Mozilla/5.0 zgrab/0.x", "Other", "Other", kBot, kBotKindScanner});
  ExpectClassifiedAs({"Mozilla/5.0 (compatible; Uptime-Kuma/1.23.11)", "Other", "Other", kBot,
                      kBotKindMonitor});
  ExpectClassifiedAs({"FeedFetcher-Google; (+http://www.google.com/feedfetcher.html)", "Other",
                      "Other", kBot, kBotKindFeedReader});
}

TEST(UserAgentTest, TheMostSpecificReasonWinsWhateverSaysIt) {
  // The list says crawler (Googlebot), footfall's own signature headless: headless.
  ExpectClassifiedAs({"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                      "HeadlessChrome/120.0.0.0 Safari/537.36 (compatible; Googlebot/2.1)",
                      "Chrome", "Linux", kBot, kBotKindHeadless});
}

TEST(UserAgentTest, WithoutTheListOnlyFootfallsOwnSignaturesCount) {
  const std::unique_ptr<BotMatcher> none = *BotMatcher::Create({});
  EXPECT_EQ(ClassifyUserAgent("Googlebot/2.1 (+http://www.google.com/bot.html)", *none).bot_kind,
            kBotKindCrawler);
  EXPECT_FALSE(ClassifyUserAgent("Amazon CloudFront", *none).is_bot);
  EXPECT_FALSE(ClassifyUserAgent("curl/8.5.0", *none).is_bot);  // the library list is a matcher's
  EXPECT_TRUE(ClassifyUserAgent("Amazon CloudFront").is_bot);
}

TEST(UserAgentTest, DropReasonKeepsHttpLibrariesAndEmptyUserAgentsUnlessAsked) {
  const UserAgentInfo curl = ClassifyUserAgent("curl/8.5.0");
  const UserAgentInfo empty = ClassifyUserAgent("");
  const UserAgentInfo crawler = ClassifyUserAgent("Googlebot/2.1 (+http://www.google.com/bot.html)");
  const UserAgentInfo person = ClassifyUserAgent(kBrowsers[0].user_agent);
  EXPECT_EQ(DropReason(curl, false), "");
  EXPECT_EQ(DropReason(empty, false), "");
  EXPECT_EQ(DropReason(crawler, false), kBotKindCrawler);
  EXPECT_EQ(DropReason(person, false), "");
  EXPECT_EQ(DropReason(curl, true), kBotKindHttpLibrary);
  EXPECT_EQ(DropReason(empty, true), kBotKindNoUserAgent);
  EXPECT_EQ(DropReason(crawler, true), kBotKindCrawler);
  EXPECT_EQ(DropReason(person, true), "");
  EXPECT_EQ(VisitDeviceClass(curl), "non_browser");
}

TEST(UserAgentTest, HttpLibraryPatternsAreAnchoredAtTheStart) {
  for (const BotPattern& pattern : HttpLibraryPatterns()) {
    EXPECT_TRUE(pattern.regex.starts_with("(?i)^")) << pattern.regex;
    EXPECT_EQ(pattern.category, BotCategory::kHttpLibrary);
  }
}

TEST(UserAgentTest, GenericBotTokenNeedsAWordBoundary) {
  EXPECT_TRUE(ClassifyUserAgent("my-site-bot").is_bot);
  EXPECT_TRUE(ClassifyUserAgent("FeedBots/2.0").is_bot);
  EXPECT_TRUE(ClassifyUserAgent("Mozilla/5.0 (compatible; AdsBot-Google)").is_bot);
  EXPECT_FALSE(ClassifyUserAgent("Bottomline/1.0").is_bot);
  EXPECT_FALSE(
      ClassifyUserAgent("Mozilla/5.0 (Linux; Android 11; CUBOT_KINGKONG_5) Mobile").is_bot);
}

TEST(UserAgentTest, EmptyOrBlankUserAgentIsABotWithoutAUserAgent) {
  for (std::string_view blank : {"", " ", "\t  "}) {
    const UserAgentInfo info = ClassifyUserAgent(blank);
    EXPECT_TRUE(info.is_bot);
    EXPECT_EQ(info.bot_kind, kBotKindNoUserAgent);
    EXPECT_EQ(info.device, DeviceClass::kBot);
    EXPECT_EQ(info.browser, "Other");
    EXPECT_EQ(info.os, "Other");
  }
}

TEST(UserAgentTest, UnrecognisedUserAgentIsOtherUnknownAndHuman) {
  const UserAgentInfo info = ClassifyUserAgent("Mozilla/5.0");
  EXPECT_EQ(info.browser, "Other");
  EXPECT_EQ(info.os, "Other");
  EXPECT_EQ(info.device, DeviceClass::kUnknown);
  EXPECT_FALSE(info.is_bot);
  EXPECT_EQ(info.bot_kind, "");
}

TEST(UserAgentTest, GarbageAndInvalidUtf8DoNotCrashAndAreOtherUnknown) {
  // 256 bytes of every byte value but letters, so no token can match by chance.
  std::string garbage;
  std::mt19937 random(42);
  while (garbage.size() < 256) {
    const auto byte = static_cast<char>(random() & 0xff);
    if ((byte >= 'a' && byte <= 'z') || (byte >= 'A' && byte <= 'Z')) continue;
    garbage.push_back(byte);
  }
  // And 256 bytes of multi-byte UTF-8 and NULs, ending in a code point cut in half.
  std::string utf8(16, '\0');
  while (utf8.size() < 256)
    utf8 += "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xe6\x97\xa5\xe6\x9c\xac ";
  utf8.resize(255);
  utf8 += '\xf0';
  for (const std::string& text : {garbage, utf8}) {
    const UserAgentInfo info = ClassifyUserAgent(text);
    EXPECT_EQ(info.browser, "Other");
    EXPECT_EQ(info.os, "Other");
    EXPECT_EQ(info.device, DeviceClass::kUnknown);
    EXPECT_FALSE(info.is_bot);
  }
}

TEST(UserAgentTest, LooksOnlyAtTheFirstClassifiedBytes) {
  std::string padded = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/121.0 ";
  padded.append(kMaxClassifiedUserAgentBytes, ' ');
  padded += "curl/8.0";
  const UserAgentInfo info = ClassifyUserAgent(padded);
  EXPECT_EQ(info.browser, "Firefox");
  EXPECT_FALSE(info.is_bot);
}

TEST(UserAgentTest, NamesDeviceClasses) {
  EXPECT_EQ(DeviceClassName(DeviceClass::kDesktop), "desktop");
  EXPECT_EQ(DeviceClassName(DeviceClass::kMobile), "mobile");
  EXPECT_EQ(DeviceClassName(DeviceClass::kTablet), "tablet");
  EXPECT_EQ(DeviceClassName(DeviceClass::kBot), "bot");
  EXPECT_EQ(DeviceClassName(DeviceClass::kUnknown), "unknown");
}

TEST(UserAgentPrefetchTest, DetectsPrefetchInAnyHeader) {
  EXPECT_TRUE(IsPrefetch("prefetch", std::nullopt, std::nullopt));
  EXPECT_TRUE(IsPrefetch(std::nullopt, "prefetch", std::nullopt));
  EXPECT_TRUE(IsPrefetch(std::nullopt, std::nullopt, "prefetch"));
}

TEST(UserAgentPrefetchTest, AcceptsParametersCaseAndWhitespace) {
  EXPECT_TRUE(IsPrefetch(std::nullopt, "prefetch;prerender", std::nullopt));
  EXPECT_TRUE(IsPrefetch(std::nullopt, "prefetch;anonymous-client-ip", std::nullopt));
  EXPECT_TRUE(IsPrefetch(std::nullopt, " Prefetch ; prerender", std::nullopt));
  EXPECT_TRUE(IsPrefetch("PREFETCH", std::nullopt, std::nullopt));
  EXPECT_TRUE(IsPrefetch(std::nullopt, "other, prefetch", std::nullopt));
}

TEST(UserAgentPrefetchTest, IgnoresAbsentEmptyAndOtherValues) {
  EXPECT_FALSE(IsPrefetch(std::nullopt, std::nullopt, std::nullopt));
  EXPECT_FALSE(IsPrefetch("", "", ""));
  EXPECT_FALSE(IsPrefetch("preview", "prerender", "prefetching"));
  EXPECT_FALSE(IsPrefetch(std::nullopt, "noprefetch", std::nullopt));
  EXPECT_FALSE(
      IsPrefetch(std::nullopt, "other;prefetch", std::nullopt));  // a parameter, not an item
  EXPECT_FALSE(IsPrefetch(",;,", ";", ","));
}

}  // namespace
}  // namespace footfall::core
