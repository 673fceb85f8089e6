#include "core/service.h"

#include <gtest/gtest.h>

#include <chrono>

#include "core/dashboard.h"
#include "core/event_body.h"
#include "store/blocking.h"
#include "store/fault_injecting_store.h"
#include "store/memory_store.h"
#include "store/props_text.h"

namespace footfall::core {
namespace {

using std::chrono::hours;

// 2026-11-25T10:00:00Z
const TimePoint kStart = TimePoint(std::chrono::seconds(1'795'600'800));

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { Build({"https://a.example", "https://b.example"}); }

  void Build(std::vector<std::string> origins) {
    ServiceOptions options;
    options.allowed_origins = std::move(origins);
    service_ = *Service::Create(options, faulty_, clock_, random_);
  }

  Response Call(std::string method, std::string target, std::vector<Header> headers = {},
                std::string peer = "203.0.113.9", std::string body = "") {
    Request request{std::move(method), std::move(target), std::move(headers), std::move(peer), "t"};
    request.body = std::move(body);
    std::optional<Response> result;
    service_->Handle(request, [&](Response response) { result = std::move(response); });
    EXPECT_TRUE(result.has_value()) << "memory store completes synchronously";
    return result.value_or(Response{});
  }

  store::MemoryStore memory_;
  store::FaultInjectingStore faulty_{memory_};
  FakeClock clock_{kStart};
  FakeRandom random_{42};
  std::unique_ptr<Service> service_;
};

TEST_F(ServiceTest, CountRecordsOneVisitAndReturnsTheSeedBody) {
  Response first = Call("GET", "/count?path=/blog/post", {{"User-Agent", "UA/1"}});
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.body, R"({"count": 1, "message": "Visitor count updated successfully"})");
  EXPECT_EQ(Call("GET", "/count").body,
            R"({"count": 2, "message": "Visitor count updated successfully"})");

  std::vector<store::Visit> visits = memory_.Visits();
  ASSERT_EQ(visits.size(), 2u);
  const store::Visit& v = visits[0];
  EXPECT_EQ(v.path, "/blog/post");
  EXPECT_EQ(v.user_agent, "UA/1");
  EXPECT_EQ(v.timestamp, "2026-11-25T10:00:00.000Z");
  EXPECT_EQ(v.site, "a.example");  // default site: first allowed origin's host
  EXPECT_EQ(v.expiration_time, 1'795'600'800 + 90 * 86400);
  EXPECT_EQ(v.visit_id[14], '7');
  EXPECT_EQ(v.visitor.size(), 32u);
  EXPECT_EQ(v.visitor.find("203.0.113.9"), std::string::npos);
}

TEST_F(ServiceTest, ReadCountDoesNotRecord) {
  Call("GET", "/count");
  EXPECT_EQ(Call("GET", "/api/count").body,
            R"({"count": 1, "message": "Visitor count updated successfully"})");
  EXPECT_EQ(memory_.Visits().size(), 1u);
}

TEST_F(ServiceTest, PagePathComesFromQueryThenRefererThenRoot) {
  Call("GET", "/count", {{"Referer", "https://a.example/about/%C3%A9t%C3%A9?x=1"}});
  Call("GET", "/count", {{"Referer", "not a url"}});
  Call("GET", "/count?path=/q", {{"Referer", "https://a.example/ignored"}});
  std::vector<store::Visit> visits = memory_.Visits();
  EXPECT_EQ(visits[0].path, "/about/\xc3\xa9t\xc3\xa9");
  EXPECT_EQ(visits[1].path, "/");
  EXPECT_EQ(visits[2].path, "/q");
  for (const auto& v : visits) EXPECT_NE(v.path, "/count");
}

TEST_F(ServiceTest, SiteAndReferrerComeFromOriginAndRef) {
  Response response = Call("GET", "/count?ref=https://news.example/item?id=1",
                           {{"Origin", "https://b.example"}});
  EXPECT_EQ(*response.FindHeader("Access-Control-Allow-Origin"), "https://b.example");
  EXPECT_EQ(memory_.Visits()[0].site, "b.example");
  EXPECT_EQ(memory_.Visits()[0].referrer, "news.example");
}

TEST_F(ServiceTest, DisallowedOriginIsRefusedAndNothingWritten) {
  Response response = Call("GET", "/count", {{"Origin", "https://evil.example"}});
  EXPECT_EQ(response.status, 403);
  EXPECT_FALSE(response.FindHeader("Access-Control-Allow-Origin").has_value());
  EXPECT_TRUE(memory_.Visits().empty());
}

TEST_F(ServiceTest, CrossSiteRequestsWithoutOriginAreRefused) {
  // <img src=".../count"> on another site: no Origin header, but Sec-Fetch-Site says so.
  Response response = Call("GET", "/count", {{"Sec-Fetch-Site", "cross-site"}});
  EXPECT_EQ(response.status, 403);
  EXPECT_TRUE(memory_.Visits().empty());
  EXPECT_EQ(Call("GET", "/count", {{"Sec-Fetch-Site", "same-site"}}).status, 200);
  EXPECT_EQ(Call("GET", "/count", {{"Sec-Fetch-Site", "none"}}).status, 200);  // typed URL
}

TEST_F(ServiceTest, PreflightForAllowedAndDisallowedOrigins) {
  Response allowed = Call("OPTIONS", "/count", {{"Origin", "https://a.example"}});
  EXPECT_EQ(allowed.status, 204);
  EXPECT_EQ(*allowed.FindHeader("Access-Control-Allow-Origin"), "https://a.example");
  EXPECT_EQ(*allowed.FindHeader("Access-Control-Allow-Methods"), "GET, OPTIONS");
  EXPECT_EQ(*allowed.FindHeader("Vary"), "Origin");
  Response denied = Call("OPTIONS", "/count", {{"Origin", "https://evil.example"}});
  EXPECT_FALSE(denied.FindHeader("Access-Control-Allow-Origin").has_value());
  EXPECT_TRUE(memory_.Visits().empty());
}

TEST_F(ServiceTest, UnknownRouteAndWrongMethod) {
  Response missing = Call("GET", "/nope");
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(missing.body.find("\"not_found\""), std::string::npos);
  Response wrong = Call("POST", "/count");
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(*wrong.FindHeader("Allow"), "GET, OPTIONS");
  EXPECT_EQ(*wrong.FindHeader("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(*missing.FindHeader("X-Content-Type-Options"), "nosniff");
  EXPECT_TRUE(memory_.Visits().empty());
}

TEST_F(ServiceTest, InvalidInputIsRejectedAndNothingWritten) {
  EXPECT_EQ(Call("GET", "/count?path=relative").status, 400);
  EXPECT_EQ(Call("GET", "/count?path=/a%0Ab").status, 400);
  EXPECT_EQ(Call("GET", "/count?path=/%FF").status, 400);
  EXPECT_EQ(Call("GET", "/count?path=%zz").status, 400);
  Response bad_agent = Call("GET", "/count", {{"User-Agent", "\xff\xfe"}});
  EXPECT_EQ(bad_agent.status, 400);
  EXPECT_NE(bad_agent.body.find("invalid_user_agent"), std::string::npos);
  EXPECT_TRUE(memory_.Visits().empty());
}

TEST_F(ServiceTest, VisitorHashIsStableWithinADayAndRotatesDaily) {
  Call("GET", "/count", {{"User-Agent", "UA"}});
  Call("GET", "/count", {{"User-Agent", "UA"}});
  clock_.Advance(hours(24));
  Call("GET", "/count", {{"User-Agent", "UA"}});
  std::vector<store::Visit> v = memory_.Visits();
  EXPECT_EQ(v[0].visitor, v[1].visitor);
  EXPECT_NE(v[1].visitor, v[2].visitor);
}

TEST_F(ServiceTest, TheSameVisitorIsUnlinkableAcrossUtcMidnight) {
  // 23:59 and 00:01 UTC are two minutes apart but on two days, under two salts: the visitor is
  // counted once on each day and the two hashes cannot be joined.
  const TimePoint before_midnight =
      std::chrono::floor<std::chrono::days>(kStart) + hours(23) + std::chrono::minutes(59);
  clock_.Advance(before_midnight - clock_.Now());
  Call("GET", "/count", {{"User-Agent", "UA"}});
  clock_.Advance(std::chrono::minutes(1));  // 00:00:00 exactly: already the next day
  Call("GET", "/count", {{"User-Agent", "UA"}});
  clock_.Advance(std::chrono::minutes(1));
  Call("GET", "/count", {{"User-Agent", "UA"}});
  std::vector<store::Visit> v = memory_.Visits();
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0].timestamp, "2026-11-25T23:59:00.000Z");
  EXPECT_EQ(v[2].timestamp, "2026-11-26T00:01:00.000Z");
  EXPECT_NE(v[0].visitor, v[1].visitor);
  EXPECT_EQ(v[1].visitor, v[2].visitor);

  store::StatsQuery query;
  query.site = "a.example";
  query.from_ms = UnixMillis(std::chrono::floor<std::chrono::days>(kStart));
  query.to_ms = query.from_ms + 2 * 86'400'000;
  StatusOr<store::Stats> answer = store::Wait<store::Stats>([&](store::Callback<store::Stats> done) {
    memory_.QueryStats(query, store::kNoDeadline, std::move(done));
  });
  ASSERT_TRUE(answer.ok());
  const store::Stats& stats = *answer;
  EXPECT_EQ(stats.views, 3);
  EXPECT_EQ(stats.visitor_days, 2);  // one visitor on each day, not one person twice
  ASSERT_EQ(stats.series.size(), 2u);
  EXPECT_EQ(stats.series[0].new_visitors, 1);
  EXPECT_EQ(stats.series[1].new_visitors, 1);
}

TEST_F(ServiceTest, SaltsOlderThanYesterdayAreDestroyed) {
  Call("GET", "/count");
  clock_.Advance(hours(24));
  Call("GET", "/count");
  EXPECT_EQ(memory_.SaltDays().size(), 2u);
  clock_.Advance(hours(24));
  Call("GET", "/count");
  const int64_t today = std::chrono::floor<std::chrono::days>(clock_.Now()).time_since_epoch().count();
  EXPECT_EQ(memory_.SaltDays(), (std::vector<int64_t>{today - 1, today}));
}

TEST_F(ServiceTest, SharedStoreMeansSameSaltAcrossInstances) {
  ServiceOptions options;
  options.allowed_origins = {"https://a.example"};
  FakeRandom other_random(7);  // a different process draws a different candidate salt
  std::unique_ptr<Service> other = *Service::Create(options, faulty_, clock_, other_random);
  Call("GET", "/count", {{"User-Agent", "UA"}});
  Request request{"GET", "/count", {{"User-Agent", "UA"}}, "203.0.113.9", "t"};
  other->Handle(request, [](Response) {});
  std::vector<store::Visit> v = memory_.Visits();
  ASSERT_EQ(v.size(), 2u);
  // Same store, same day, same visitor: the same hash, although each drew its own candidate.
  EXPECT_EQ(v[0].visitor, v[1].visitor);
  EXPECT_EQ(memory_.SaltDays().size(), 1u);
}

TEST_F(ServiceTest, FailingStoreGivesClean503WithoutDetails) {
  faulty_.FailAll(UnavailableError("database is locked (SQLITE_BUSY) at /var/lib/x.db"));
  Response response = Call("GET", "/count", {{"Origin", "https://a.example"}});
  EXPECT_EQ(response.status, 503);
  EXPECT_EQ(*response.FindHeader("Content-Type"), "application/json");
  EXPECT_EQ(*response.FindHeader("Access-Control-Allow-Origin"), "https://a.example");
  EXPECT_EQ(response.body.find("SQLITE"), std::string::npos);
  EXPECT_EQ(response.body.find("/var/lib"), std::string::npos);
  faulty_.FailAll(InternalError("corrupt"));
  EXPECT_EQ(Call("GET", "/api/count").status, 500);
  EXPECT_EQ(Call("GET", "/readyz").status, 500);
  faulty_.Heal();
  EXPECT_EQ(Call("GET", "/readyz").status, 200);
  EXPECT_EQ(Call("GET", "/healthz").status, 200);
}

TEST_F(ServiceTest, StatsNeedTheTokenAndAnswerFromTheAggregates) {
  ServiceOptions options;
  options.allowed_origins = {"https://a.example"};
  options.stats_token = "s3cret";
  service_ = *Service::Create(options, faulty_, clock_, random_);
  Call("GET", "/count?path=/blog", {{"User-Agent", "UA"}});
  Call("GET", "/count", {{"Origin", "https://evil.example"}});  // a drop: foreign_origin

  EXPECT_EQ(Call("GET", "/api/stats").status, 401);
  Response wrong = Call("GET", "/api/stats", {{"Authorization", "Bearer nope"}});
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(*wrong.FindHeader("WWW-Authenticate"), "Basic realm=\"footfall\", charset=\"UTF-8\"");
  Response bad = Call("GET", "/api/stats?interval=week", {{"Authorization", "Bearer s3cret"}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("interval"), std::string::npos);

  Response stats = Call("GET", "/api/stats", {{"Authorization", "Bearer s3cret"}});
  EXPECT_EQ(stats.status, 200) << stats.body;
  EXPECT_NE(stats.body.find(R"("views":1)"), std::string::npos);
  EXPECT_NE(stats.body.find(R"({"name":"/blog","views":1,"visitor_days":1})"), std::string::npos)
      << stats.body;
  EXPECT_NE(stats.body.find(R"({"name":"foreign_origin","views":1})"), std::string::npos);
  EXPECT_EQ(*stats.FindHeader("Cache-Control"), "no-store");
}

TEST_F(ServiceTest, CustomEventsGoalsAndCampaignsReachTheStatsButNotTheCounter) {
  ServiceOptions options;
  options.allowed_origins = {"https://a.example"};
  options.stats_token = "s3cret";
  options.goals = *Goals::Parse("event:Signup,page:/thanks,page:/never");
  service_ = *Service::Create(options, faulty_, clock_, random_);
  const std::vector<Header> beacon = {{"Origin", "https://a.example"}, {"User-Agent", "UA"}};
  EXPECT_EQ(Call("GET", "/count?path=/thanks&utm_source=Newsletter&utm_medium=email", beacon).body,
            R"({"count": 1, "message": "Visitor count updated successfully"})");
  EXPECT_EQ(Call("POST", "/api/event", beacon, "203.0.113.9",
                 R"({"name":"Signup","props":{"plan":"pro"},"path":"/thanks"})")
                .status,
            202);
  // A page URL gives the path and GoatCounter's ref= as the source.
  EXPECT_EQ(Call("POST", "/api/event", beacon, "198.51.100.4",
                 R"({"url":"https://a.example/docs?ref=HN"})")
                .status,
            202);
  EXPECT_EQ(Call("GET", "/api/count").body,
            R"({"count": 2, "message": "Visitor count updated successfully"})")
      << "the custom event is not counted";
  const std::vector<store::Visit> visits = memory_.Visits();
  ASSERT_EQ(visits.size(), 3u);
  EXPECT_EQ(visits[0].goals, std::vector<std::string>{"page:/thanks"});
  EXPECT_EQ(visits[1].event, "Signup");
  EXPECT_EQ(visits[1].goals, std::vector<std::string>{"event:Signup"});
  EXPECT_TRUE(visits[1].campaign.empty()) << "campaigns are kept for page views";
  EXPECT_EQ(visits[2].path, "/docs");
  EXPECT_EQ(visits[2].campaign.source, "hn");

  const std::vector<Header> token = {{"Authorization", "Bearer s3cret"}};
  Response stats = Call("GET", "/api/stats?event=Signup", token);
  ASSERT_EQ(stats.status, 200) << stats.body;
  for (const char* expected :
       {R"("events":[{"name":"Signup","count":1,"visitor_days":1}])",
        R"("event":"Signup","props":{"plan":[{"name":"pro","count":1,"visitor_days":1}]})",
        R"({"goal":"event:Signup","count":1,"visitor_days":1,"conversion_rate":0.5000})",
        R"({"goal":"page:/thanks","count":1,"visitor_days":1,"conversion_rate":0.5000})",
        R"({"goal":"page:/never","count":0,"visitor_days":0,"conversion_rate":0.0000})",
        R"("campaigns":{"sources":[{"name":"hn","views":1},{"name":"newsletter","views":1}],)"
        R"("mediums":[{"name":"email","views":1}],"campaigns":[],"contents":[],"terms":[]})",
        R"("views":2,"visitor_days":2)"}) {
    EXPECT_NE(stats.body.find(expected), std::string::npos) << expected << "\n" << stats.body;
  }
  EXPECT_NE(Call("GET", "/api/stats?path=/thanks", token).body.find(R"("conversion_rate":null)"),
            std::string::npos);
  EXPECT_EQ(Call("GET", "/api/stats?event=%01", token).status, 400);
}

TEST_F(ServiceTest, PlausiblesTrackerIsAnsweredAsPlausibleDoes) {
  const std::vector<Header> headers = {{"Origin", "https://a.example"},
                                       {"Content-Type", "text/plain"}};
  Response view = Call("POST", "/api/event", headers, "203.0.113.9",
                       R"({"n":"pageview","u":"https://a.example/app/#/settings?tab=2","d":"a.example",)"
                       R"("r":"https://news.example/x","w":1280,"h":1})");
  EXPECT_EQ(view.status, 202);
  EXPECT_EQ(view.body, "ok");
  EXPECT_EQ(*view.FindHeader("Content-Type"), "text/plain; charset=utf-8");
  Response event = Call("POST", "/api/event", headers, "203.0.113.9",
                        R"({"n":"Signup","u":"https://a.example/pricing?utm_source=hn","d":"a.example",)"
                        R"("r":null,"w":390,"h":0,"p":"{\"plan\":\"pro\",\"seats\":3}"})");
  EXPECT_EQ(event.status, 202);
  EXPECT_EQ(event.body, "ok");
  const std::vector<store::Visit> visits = memory_.Visits();
  ASSERT_EQ(visits.size(), 2u);
  EXPECT_EQ(visits[0].path, "/app/#/settings");
  EXPECT_EQ(visits[0].referrer, "news.example");
  EXPECT_EQ(visits[0].screen, "1024-1439");
  EXPECT_EQ(visits[1].event, "Signup");
  EXPECT_EQ(visits[1].path, "/pricing");
  EXPECT_EQ(visits[1].props, (store::Props{{"plan", "pro"}, {"seats", "3"}}));
  EXPECT_EQ(Call("POST", "/api/event", headers, "203.0.113.9", R"({"n":7})").status, 400);
}

TEST_F(ServiceTest, DistinctValuesPastTheBoundBecomeOtherAndCountADrop) {
  ServiceOptions options;
  options.allowed_origins = {"https://a.example"};
  options.max_distinct_values = 2;
  service_ = *Service::Create(options, faulty_, clock_, random_);
  for (int i = 0; i < 4; ++i) {
    const std::string body = R"({"name":"e)" + std::to_string(i) + R"(","props":{"id":"v)" +
                             std::to_string(i) + R"("}})";
    EXPECT_EQ(Call("POST", "/api/event", {}, "203.0.113.9", body).status, 202);
  }
  const std::vector<store::Visit> visits = memory_.Visits();
  ASSERT_EQ(visits.size(), 4u);
  EXPECT_EQ(visits[1].event, "e1");
  EXPECT_EQ(visits[2].event, "(other)");
  EXPECT_EQ(visits[3].event, "(other)");
  EXPECT_EQ(visits[2].props, (store::Props{{"id", "v2"}})) << "(other)'s own properties";
  EXPECT_EQ(visits[3].props, (store::Props{{"id", "v3"}}));
}

TEST_F(ServiceTest, PropertiesNeverHoldTheVisitorHashOrAnAddress) {
  EXPECT_EQ(Call("POST", "/api/event", {}, "203.0.113.9", R"({"name":"x","props":{"ip":"203.0.113.9"}})")
                .status,
            400);
  Call("GET", "/count");
  const std::string hash = memory_.Visits()[0].visitor;
  Response response = Call("POST", "/api/event", {}, "203.0.113.9",
                           R"({"name":"x","props":{"who":")" + hash + R"("}})");
  EXPECT_EQ(response.status, 400);
  EXPECT_NE(response.body.find("props.who"), std::string::npos);
  EXPECT_EQ(memory_.Visits().size(), 1u);
}

TEST_F(ServiceTest, BotsAndPrefetchesGetTheCountButAreNotRecorded) {
  Call("GET", "/count", {{"User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"}});
  Response bot = Call("GET", "/count", {{"User-Agent", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"}});
  EXPECT_EQ(bot.status, 200);
  EXPECT_EQ(bot.body, R"({"count": 1, "message": "Visitor count updated successfully"})");
  Response prefetch = Call("GET", "/count", {{"Sec-Purpose", "prefetch"}, {"User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"}});
  EXPECT_EQ(prefetch.status, 200);
  Call("GET", "/count", {{"User-Agent", "curl/8.5.0"}});  // scripts count, as non-browser
  std::vector<store::Visit> visits = memory_.Visits();
  ASSERT_EQ(visits.size(), 2u);
  EXPECT_EQ(visits[0].browser, "Firefox");
  EXPECT_EQ(visits[0].device, "desktop");
  EXPECT_EQ(visits[1].device, "non_browser");
}

TEST_F(ServiceTest, BeaconEventRecordsTheVisitAndAnswers202) {
  Response accepted = Call("POST", "/api/event",
                           {{"Origin", "https://b.example"}, {"Content-Type", "text/plain;charset=UTF-8"},
                            {"User-Agent", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"}},
                           "203.0.113.9",
                           R"({"path":"/cv","referrer":"https://news.example/x","screen":390})");
  EXPECT_EQ(accepted.status, 202) << accepted.body;
  EXPECT_EQ(accepted.body, R"({"status": "accepted"})");
  EXPECT_EQ(*accepted.FindHeader("Access-Control-Allow-Origin"), "https://b.example");
  std::vector<store::Visit> visits = memory_.Visits();
  ASSERT_EQ(visits.size(), 1u);
  EXPECT_EQ(visits[0].path, "/cv");
  EXPECT_EQ(visits[0].site, "b.example");
  EXPECT_EQ(visits[0].referrer, "news.example");
  EXPECT_EQ(visits[0].screen, "<600");
  EXPECT_EQ(visits[0].source, "origin");
  EXPECT_EQ(visits[0].device, "mobile");

  // Without a path the Referer gives the page, as for GET /count.
  EXPECT_EQ(Call("POST", "/api/event", {{"Referer", "https://a.example/about"}}, "203.0.113.9", "{}")
                .status,
            202);
  EXPECT_EQ(memory_.Visits().back().path, "/about");
  EXPECT_EQ(memory_.Visits().back().source, "no_origin");
}

TEST_F(ServiceTest, BeaconEventRefusesForeignOriginsBadBodiesAndOtherMethods) {
  EXPECT_EQ(Call("POST", "/api/event", {{"Origin", "https://evil.example"}}, "203.0.113.9", "{}").status,
            403);
  EXPECT_EQ(Call("POST", "/api/event", {}, "203.0.113.9", "path=/x").status, 400);
  EXPECT_EQ(Call("POST", "/api/event", {}, "203.0.113.9", R"({"path":"no-slash"})").status, 400);
  EXPECT_EQ(Call("POST", "/api/event", {{"Content-Type", "application/x-www-form-urlencoded"}},
                 "203.0.113.9", "{}")
                .status,
            415);
  EXPECT_EQ(Call("POST", "/api/event", {}, "203.0.113.9", std::string(kMaxEventBodyBytes + 1, ' '))
                .status,
            413);
  Response get = Call("GET", "/api/event");
  EXPECT_EQ(get.status, 405);
  EXPECT_EQ(*get.FindHeader("Allow"), "POST, OPTIONS");
  EXPECT_EQ(Call("POST", "/count").status, 405);
  Response preflight = Call("OPTIONS", "/api/event", {{"Origin", "https://a.example"}});
  EXPECT_EQ(*preflight.FindHeader("Access-Control-Allow-Methods"), "POST, OPTIONS");
  // Bots get the same 202 and are counted as drops, not visits.
  EXPECT_EQ(Call("POST", "/api/event", {{"User-Agent", "Mozilla/5.0 (compatible; bingbot/2.0)"}},
                 "203.0.113.9", "{}")
                .status,
            202);
  EXPECT_TRUE(memory_.Visits().empty());
}

TEST_F(ServiceTest, RateLimitedRequestsGet429AndAreCountedNotRecorded) {
  ServiceOptions options;
  options.allowed_origins = {"https://a.example"};
  options.stats_public = true;
  options.rate_limit = {.visitor_per_minute = 3, .global_per_second = 0, .max_visitors = 100};
  service_ = *Service::Create(options, faulty_, clock_, random_);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Call("GET", "/count").status, 200);
  Response limited = Call("GET", "/count");
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(*limited.FindHeader("Retry-After"), "20");  // 3 per minute: one every 20 s
  EXPECT_NE(limited.body.find("rate_limited"), std::string::npos);
  EXPECT_EQ(memory_.Visits().size(), 3u);
  // Another client is not affected; health checks never are.
  EXPECT_EQ(Call("GET", "/count", {}, "198.51.100.4").status, 200);
  EXPECT_EQ(Call("GET", "/healthz").status, 200);
  EXPECT_EQ(Call("GET", "/readyz").status, 200);
  clock_.Advance(std::chrono::seconds(20));
  EXPECT_EQ(Call("GET", "/count").status, 200);
  // The drop is visible in the stats.
  Response stats = Call("GET", "/api/stats", {}, "192.0.2.200");
  EXPECT_NE(stats.body.find(R"({"name":"rate_limited","views":1})"), std::string::npos) << stats.body;
}

TEST_F(ServiceTest, DashboardIsHtmlBehindTheTokenWithAStrictPolicy) {
  ServiceOptions options;
  options.allowed_origins = {"https://a.example"};
  options.stats_token = "s3cret";
  service_ = *Service::Create(options, faulty_, clock_, random_);
  Call("GET", "/count?path=/%3Cb%3Ebold", {{"User-Agent", "UA"}});
  Response challenge = Call("GET", "/dashboard");
  EXPECT_EQ(challenge.status, 401);
  bool basic = false;
  for (const Header& header : challenge.headers) {
    if (header.name == "WWW-Authenticate" && header.value.starts_with("Basic ")) basic = true;
  }
  EXPECT_TRUE(basic) << "browsers get a Basic challenge";
  // Basic credentials: any user, the token as password ("me:s3cret").
  EXPECT_EQ(Call("GET", "/dashboard", {{"Authorization", "Basic bWU6bm9wZQ=="}}).status, 401);
  Response page = Call("GET", "/dashboard", {{"Authorization", "Basic bWU6czNjcmV0"}});
  EXPECT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(*page.FindHeader("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(*page.FindHeader("Content-Security-Policy"), DashboardContentSecurityPolicy());
  EXPECT_EQ(*page.FindHeader("X-Frame-Options"), "DENY");
  EXPECT_EQ(*page.FindHeader("X-Content-Type-Options"), "nosniff");
  EXPECT_NE(page.body.find("/&lt;b&gt;bold"), std::string::npos);
  EXPECT_EQ(Call("GET", "/dashboard?interval=week", {{"Authorization", "Bearer s3cret"}}).status, 400);
}

TEST_F(ServiceTest, PublicPageCounterIsReadOnlyAndCacheable) {
  Call("GET", "/count?path=/blog");
  Call("GET", "/count?path=/blog");
  Response json = Call("GET", "/counter/blog.json");
  EXPECT_EQ(json.status, 200);
  EXPECT_EQ(json.body, R"({"path": "/blog", "views": 2})");
  EXPECT_EQ(*json.FindHeader("Cache-Control"), "public, max-age=60");
  EXPECT_EQ(*json.FindHeader("ETag"), "W/\"2\"");
  Response svg = Call("GET", "/counter/blog.svg");
  EXPECT_EQ(*svg.FindHeader("Content-Type"), "image/svg+xml");
  EXPECT_NE(svg.body.find(">2<"), std::string::npos);
  EXPECT_EQ(Call("GET", "/counter/blog.svg", {{"If-None-Match", "W/\"2\""}}).status, 304);
  EXPECT_EQ(Call("GET", "/counter/.json").body, R"({"path": "/", "views": 0})");
  EXPECT_EQ(Call("GET", "/counter/blog.txt").status, 400);
  EXPECT_EQ(Call("POST", "/counter/blog.json").status, 405);
  EXPECT_EQ(memory_.Visits().size(), 2u) << "reading never records";
}

TEST_F(ServiceTest, StatsAreOffWithoutTokenUnlessPublic) {
  EXPECT_EQ(Call("GET", "/api/stats").status, 403);
  ServiceOptions options;
  options.stats_public = true;
  service_ = *Service::Create(options, faulty_, clock_, random_);
  EXPECT_EQ(Call("GET", "/api/stats").status, 200);
}

TEST_F(ServiceTest, CreateRejectsBadConfiguration) {
  ServiceOptions bad_origin;
  bad_origin.allowed_origins = {"a.example"};
  EXPECT_FALSE(Service::Create(bad_origin, memory_, clock_, random_).ok());
  ServiceOptions bad_proxy;
  bad_proxy.trusted_proxies = {"10.0.0.0/99"};
  EXPECT_FALSE(Service::Create(bad_proxy, memory_, clock_, random_).ok());
}

}  // namespace
}  // namespace footfall::core
