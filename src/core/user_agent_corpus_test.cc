// The bot filter against data nobody here wrote (issue 22): every example user agent of the pinned
// crawler-user-agents list (third_party/crawler-user-agents) must be recognised, and none of the
// real browsers of the user-agents package (third_party/user-agents/browsers.txt) dropped — both
// by ClassifyUserAgent and through the request path (GET /count on a Service).
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "core/crawler_list.h"
#include "core/service.h"
#include "core/user_agent.h"
#include "store/memory_store.h"

namespace footfall::core {
namespace {

struct ListEntry {
  std::string pattern;
  std::vector<std::string> instances;
};

std::vector<ListEntry> CrawlerList() {
  std::ifstream in(FOOTFALL_CRAWLER_LIST_JSON);
  EXPECT_TRUE(in.good()) << FOOTFALL_CRAWLER_LIST_JSON;
  const nlohmann::json json = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  EXPECT_TRUE(json.is_array());
  std::vector<ListEntry> entries;
  if (!json.is_array()) return entries;
  for (const nlohmann::json& item : json) {
    ListEntry entry;
    entry.pattern = item.at("pattern").get<std::string>();
    for (const nlohmann::json& instance : item.at("instances")) {
      entry.instances.push_back(instance.get<std::string>());
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

// The `version:` line of third_party/crawler-user-agents/PROVENANCE (written by
// scripts/refresh-crawler-list.sh), or "" if there is none.
std::string ProvenanceVersion() {
  std::ifstream in(FOOTFALL_CRAWLER_LIST_PROVENANCE);
  EXPECT_TRUE(in.good()) << FOOTFALL_CRAWLER_LIST_PROVENANCE;
  constexpr std::string_view kKey = "version: ";
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with(kKey)) return line.substr(kKey.size());
  }
  return "";
}

std::vector<std::string> Instances() {
  std::vector<std::string> all;
  for (const ListEntry& entry : CrawlerList()) {
    all.insert(all.end(), entry.instances.begin(), entry.instances.end());
  }
  return all;
}

std::vector<std::string> Browsers() {
  std::ifstream in(FOOTFALL_BROWSER_CORPUS);
  EXPECT_TRUE(in.good()) << FOOTFALL_BROWSER_CORPUS;
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

// Whether footfall's documented HTTP-library list names `user_agent`.
bool IsDocumentedHttpLibrary(std::string_view user_agent) {
  static const std::unique_ptr<BotMatcher> libraries = *BotMatcher::Create(HttpLibraryPatterns());
  StatusOr<BotCategories> match = libraries->Match(user_agent);
  return match.ok() && !match->empty();
}

TEST(CrawlerListTest, CompiledInListIsTheVendoredOne) {
  const std::vector<ListEntry> entries = CrawlerList();
  ASSERT_EQ(CrawlerListPatterns().size(), entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    EXPECT_EQ(CrawlerListPatterns()[i].regex, entries[i].pattern);
  }
  const std::string version = ProvenanceVersion();
  EXPECT_FALSE(version.empty()) << "no version line in " << FOOTFALL_CRAWLER_LIST_PROVENANCE;
  EXPECT_EQ(CrawlerListVersion(), version);
}

TEST(CrawlerListTest, EveryPatternCompilesInRe2AndMatchesItsOwnInstances) {
  const std::vector<ListEntry> entries = CrawlerList();
  for (size_t i = 0; i < entries.size(); ++i) {
    const BotPattern pattern = CrawlerListPatterns()[i];
    StatusOr<std::unique_ptr<BotMatcher>> one = BotMatcher::Create({&pattern, 1});
    ASSERT_TRUE(one.ok()) << one.status().message();
    for (const std::string& instance : entries[i].instances) {
      StatusOr<BotCategories> match = (*one)->Match(instance);
      ASSERT_TRUE(match.ok());
      EXPECT_TRUE(match->Has(pattern.category)) << pattern.regex << " misses " << instance;
    }
  }
}

// Issue 22: 494 of these examples were recorded as visits.
TEST(CrawlerListTest, EveryExampleIsABotAndOnlyDocumentedHttpLibrariesAreCounted) {
  std::map<std::string_view, int> kinds;
  std::vector<std::string> counted;
  for (const std::string& instance : Instances()) {
    SCOPED_TRACE(instance);
    const UserAgentInfo info = ClassifyUserAgent(instance);
    EXPECT_TRUE(info.is_bot);
    EXPECT_EQ(info.device, DeviceClass::kBot);
    ++kinds[info.bot_kind];
    EXPECT_EQ(info.bot_kind == kBotKindHttpLibrary, IsDocumentedHttpLibrary(instance));
    if (DropReason(info, false).empty()) counted.push_back(instance);
    EXPECT_EQ(DropReason(info, true), info.bot_kind);
  }
  // What the list allows beyond "crawler": every finer reason occurs.
  for (std::string_view kind : {kBotKindCrawler, kBotKindHeadless, kBotKindLinkPreview,
                                kBotKindMonitor, kBotKindFeedReader, kBotKindScanner}) {
    EXPECT_GT(kinds[kind], 0) << kind;
  }
  std::ostringstream listing;
  for (const auto& [kind, count] : kinds) listing << kind << "=" << count << " ";
  RecordProperty("kinds", listing.str());
  // The plain libraries only: curl, Wget, python-requests, urllib, aiohttp, httpx, Go, OkHttp,
  // Apache HttpClient, AHC, axios, node-fetch, got, PHP-Curl-Class, HTTPie, lwp-trivial.
  EXPECT_EQ(counted.size(), 68u) << listing.str();
}

TEST(CrawlerListTest, TheIssuesExamplesAreDroppedWithFinerReasons) {
  struct Case {
    std::string_view user_agent;
    std::string_view reason;
  };
  constexpr Case kCases[] = {
      {"Amazon CloudFront", kBotKindCrawler},
      {"Bitbucket-Webhooks/2.0", kBotKindCrawler},  // tagged "seo" by the list
      {"FeedBurner/1.0 (http://www.FeedBurner.com)", kBotKindFeedReader},
      {"ADmantX Platform Semantic Analyzer - ADmantX Inc. - www.admantx.com - support@admantx.com",
       kBotKindCrawler},
      {"Mozilla/5.0 (compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)", kBotKindMonitor},
      {"Mozilla/5.0 (compatible; CensysInspect/1.1; +https://about.censys.io/)", kBotKindScanner},
      {"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
       "HeadlessChrome/120.0.0.0 Safari/537.36",
       kBotKindHeadless},
      {"Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", kBotKindLinkPreview},
      // Libraries inside another product's user agent: that product is a crawler.
      {"serpstatbot/1.0 (advanced backlink tracking bot; curl/7.58.0; http://serpstatbot.com/; "
       "abuse@serpstatbot.com)",
       kBotKindCrawler},
      {"2Bone_LinkChecker/1.0 libwww-perl/6.03", kBotKindCrawler},
      {"Mozilla/5.0 (compatible; Go-http-client/1.1; +centurybot9@gmail.com)", kBotKindCrawler},
      {"Scrapy/1.0.3 (+http://scrapy.org)", kBotKindCrawler},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.user_agent);
    EXPECT_EQ(DropReason(ClassifyUserAgent(c.user_agent), false), c.reason);
  }
}

TEST(BrowserCorpusTest, NoRealBrowserIsABot) {
  const std::vector<std::string> browsers = Browsers();
  ASSERT_GT(browsers.size(), 900u);
  for (const std::string& browser : browsers) {
    const UserAgentInfo info = ClassifyUserAgent(browser);
    EXPECT_FALSE(info.is_bot) << browser << " is " << info.bot_kind;
  }
}

// Through the request path: what GET /count records and drops, with and without the option.
class CorpusThroughServiceTest : public ::testing::Test {
 protected:
  void Build(bool drop_http_libraries) {
    ServiceOptions options;
    options.rate_limit = {.visitor_per_minute = 0, .global_per_second = 0, .max_visitors = 1};
    options.drop_http_libraries = drop_http_libraries;
    options.on_drop = [this](std::string_view reason) { ++drops_[std::string(reason)]; };
    service_ = *Service::Create(options, memory_, clock_, random_);
  }

  int Count(const std::string& user_agent) {
    Request request{"GET", "/count", {{"User-Agent", user_agent}}, "203.0.113.9", "t"};
    int status = 0;
    service_->Handle(request, [&](Response response) { status = response.status; });
    return status;
  }

  store::MemoryStore memory_;
  FakeClock clock_{TimePoint(std::chrono::seconds(1'795'600'800))};
  FakeRandom random_{7};
  std::unique_ptr<Service> service_;
  std::map<std::string, int> drops_;
};

TEST_F(CorpusThroughServiceTest, ListExamplesAreDroppedExceptHttpLibrariesAsNonBrowser) {
  Build(false);
  const std::vector<std::string> instances = Instances();
  for (const std::string& instance : instances) EXPECT_EQ(Count(instance), 200) << instance;
  int dropped = 0;
  for (const auto& [reason, count] : drops_) {
    EXPECT_NE(reason, kBotKindHttpLibrary);
    dropped += count;
  }
  const std::vector<store::Visit> visits = memory_.Visits();
  for (const store::Visit& visit : visits)
    EXPECT_EQ(visit.device, "non_browser") << visit.user_agent;
  EXPECT_EQ(visits.size(), 68u);
  EXPECT_EQ(dropped + visits.size(), instances.size());
}

TEST_F(CorpusThroughServiceTest, TheOptionDropsHttpLibrariesAndEmptyUserAgentsToo) {
  Build(true);
  for (const std::string& instance : Instances()) Count(instance);
  Count("");
  EXPECT_TRUE(memory_.Visits().empty());
  EXPECT_EQ(drops_["http_library"], 68);
  EXPECT_EQ(drops_["no_user_agent"], 1);
}

TEST_F(CorpusThroughServiceTest, EveryRealBrowserIsRecorded) {
  Build(false);
  const std::vector<std::string> browsers = Browsers();
  for (const std::string& browser : browsers) Count(browser);
  EXPECT_TRUE(drops_.empty());
  const std::vector<store::Visit> visits = memory_.Visits();
  EXPECT_EQ(visits.size(), browsers.size());
  for (const store::Visit& visit : visits)
    EXPECT_NE(visit.device, "non_browser") << visit.user_agent;
}

}  // namespace
}  // namespace footfall::core
