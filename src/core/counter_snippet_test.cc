#include "core/counter_snippet.h"

#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/random.h"
#include "core/service.h"
#include "store/memory_store.h"

namespace footfall::core {
namespace {

// web/counter.min.js as it is in the source tree now (FOOTFALL_COUNTER_MIN_JS, set by CMake).
std::string CommittedSnippet() {
  std::ifstream file(FOOTFALL_COUNTER_MIN_JS, std::ios::binary);
  EXPECT_TRUE(file) << "cannot read " << FOOTFALL_COUNTER_MIN_JS;
  return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

TEST(CounterSnippetTest, IsWebCounterMinJs) {
  const std::string committed = CommittedSnippet();
  ASSERT_FALSE(committed.empty());
  EXPECT_EQ(CounterSnippet(), committed);
}

TEST(CounterSnippetTest, EtagIsTheQuotedSha256PrefixOfTheBytes) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  const std::string committed = CommittedSnippet();
  SHA256(reinterpret_cast<const unsigned char*>(committed.data()), committed.size(), digest);
  std::string expected = "\"";
  char hex[3];
  for (int i = 0; i < 16; ++i) {
    std::snprintf(hex, sizeof hex, "%02x", digest[i]);
    expected += hex;
  }
  expected += "\"";
  EXPECT_EQ(CounterSnippetEtag(), expected);
  EXPECT_EQ(&CounterSnippetEtag(), &CounterSnippetEtag()) << "computed once";
}

TEST(CounterSnippetTest, IfNoneMatchUsesWeakComparisonListsAndStar) {
  const std::string etag = CounterSnippetEtag();
  for (const std::string& header :
       {etag, "W/" + etag, "\"other\", " + etag, "\"a\" ,\t" + etag + " ", std::string("*")}) {
    const Response response = CounterSnippetResponse(header);
    EXPECT_EQ(response.status, 304) << header;
    EXPECT_EQ(response.body, "") << header;
    EXPECT_EQ(response.FindHeader("ETag"), etag) << header;
  }
  for (const std::string& header : {std::string(""), std::string("\"other\""),
                                    etag.substr(0, etag.size() - 2) + "\"", etag.substr(1)}) {
    EXPECT_EQ(CounterSnippetResponse(header).status, 200) << header;
  }
  EXPECT_EQ(CounterSnippetResponse(std::nullopt).status, 200);
}

// The routes, through the whole request handler.
class CounterSnippetRouteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServiceOptions options;
    options.allowed_origins = {"https://me.example"};
    service_ = *Service::Create(options, memory_, clock_, random_);
  }

  Response Call(std::string method, std::string target, std::vector<Header> headers = {}) {
    Request request{std::move(method), std::move(target), std::move(headers), "203.0.113.9", "t"};
    std::optional<Response> result;
    service_->Handle(request, [&](Response response) { result = std::move(response); });
    EXPECT_TRUE(result.has_value()) << "the snippet is answered synchronously";
    return result.value_or(Response{});
  }

  store::MemoryStore memory_;
  FakeClock clock_{TimePoint(std::chrono::seconds(1'795'600'800))};
  FakeRandom random_{42};
  std::unique_ptr<Service> service_;
};

TEST_F(CounterSnippetRouteTest, GetAnswersTheScriptCacheableAndLoadableCrossOrigin) {
  for (const char* target : {"/counter.js", "/counter.min.js", "/counter.js?v=2"}) {
    const Response response = Call("GET", target);
    EXPECT_EQ(response.status, 200) << target;
    EXPECT_EQ(response.body, CommittedSnippet()) << target;
    EXPECT_EQ(response.FindHeader("Content-Type"), "text/javascript; charset=utf-8");
    EXPECT_EQ(response.FindHeader("ETag"), CounterSnippetEtag());
    EXPECT_EQ(response.FindHeader("Cache-Control"), "public, max-age=3600");
    EXPECT_EQ(response.FindHeader("Cross-Origin-Resource-Policy"), "cross-origin");
    EXPECT_EQ(response.FindHeader("X-Content-Type-Options"), "nosniff");
    EXPECT_FALSE(response.used_store);
  }
  // Pages of any site may load it (a <script> needs no CORS): no 403 for an unknown origin.
  EXPECT_EQ(Call("GET", "/counter.js", {{"Origin", "https://other.example"}}).status, 200);
  EXPECT_EQ(Call("GET", "/counter.js", {{"Sec-Fetch-Site", "cross-site"}}).status, 200);
  // Serving the script is not a visit.
  EXPECT_TRUE(memory_.Visits().empty());
}

TEST_F(CounterSnippetRouteTest, MatchingIfNoneMatchAnswers304WithoutBody) {
  const Response response = Call("GET", "/counter.js", {{"If-None-Match", CounterSnippetEtag()}});
  EXPECT_EQ(response.status, 304);
  EXPECT_EQ(response.body, "");
  EXPECT_EQ(response.FindHeader("ETag"), CounterSnippetEtag());
  EXPECT_EQ(response.FindHeader("Cache-Control"), "public, max-age=3600");
  EXPECT_EQ(Call("GET", "/counter.min.js", {{"If-None-Match", "\"stale\""}}).status, 200);
}

TEST_F(CounterSnippetRouteTest, OptionsIsAPreflightAndOtherMethodsAre405) {
  const Response preflight =
      Call("OPTIONS", "/counter.js", {{"Origin", "https://me.example"},
                                      {"Access-Control-Request-Method", "GET"}});
  EXPECT_EQ(preflight.status, 204);
  EXPECT_EQ(preflight.FindHeader("Access-Control-Allow-Origin"), "https://me.example");
  EXPECT_EQ(preflight.FindHeader("Access-Control-Allow-Methods"), "GET, OPTIONS");
  // Like every route, the snippet answers GET only (no HEAD).
  for (const char* method : {"HEAD", "POST"}) {
    const Response response = Call(method, "/counter.js");
    EXPECT_EQ(response.status, 405) << method;
    EXPECT_EQ(response.FindHeader("Allow"), "GET, OPTIONS") << method;
  }
}

TEST_F(CounterSnippetRouteTest, IsListedInThePublicRoutes) {
  std::vector<std::string> paths;
  for (const PublicRoute& route : Service::PublicRoutes()) {
    if (route.path.starts_with("/counter.")) paths.push_back(route.path + " " + route.method);
  }
  EXPECT_EQ(paths, (std::vector<std::string>{"/counter.js GET", "/counter.min.js GET"}));
}

}  // namespace
}  // namespace footfall::core
