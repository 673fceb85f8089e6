#include "core/url.h"

#include <gtest/gtest.h>

#include <string>

namespace footfall::core {
namespace {

TEST(SplitTargetTest, SplitsAtFirstQuestionMark) {
  EXPECT_EQ(SplitTarget("/count?path=/a?b").path, "/count");
  EXPECT_EQ(SplitTarget("/count?path=/a?b").query, "path=/a?b");
  EXPECT_EQ(SplitTarget("/count").query, "");
}

TEST(ParseQueryTest, DecodesPairs) {
  QueryParameters params = *ParseQuery("path=%2Fblog%2Fpost&ref=https%3A%2F%2Fx.example&flag");
  EXPECT_EQ(*FindParameter(params, "path"), "/blog/post");
  EXPECT_EQ(*FindParameter(params, "ref"), "https://x.example");
  EXPECT_EQ(*FindParameter(params, "flag"), "");
  EXPECT_FALSE(FindParameter(params, "missing").has_value());
}

TEST(ParseQueryTest, LimitsParameterCount) {
  std::string query;
  for (size_t i = 0; i <= kMaxQueryParameters; ++i) query += "a=1&";
  EXPECT_EQ(ParseQuery(query).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(ParseQuery("path=%zz").ok());
}

TEST(ParseHttpUrlTest, ParsesHostPortAndPath) {
  Url url = *ParseHttpUrl("HTTPS://Me.Example:8443/about/?x=1#top");
  EXPECT_EQ(url.scheme, "https");
  EXPECT_EQ(url.host, "me.example");
  EXPECT_EQ(url.port, "8443");
  EXPECT_EQ(url.path, "/about/");
  EXPECT_EQ(ParseHttpUrl("http://[::1]:80/x")->host, "[::1]");
  EXPECT_EQ(ParseHttpUrl("https://me.example")->path, "");
}

TEST(ParseHttpUrlTest, RejectsNonHttpAndUserinfo) {
  EXPECT_FALSE(ParseHttpUrl("ftp://x.example/").has_value());
  EXPECT_FALSE(ParseHttpUrl("/relative").has_value());
  EXPECT_FALSE(ParseHttpUrl("https://user@x.example/").has_value());
  EXPECT_FALSE(ParseHttpUrl("https:///path").has_value());
  EXPECT_FALSE(ParseHttpUrl("https://x.example:8a/").has_value());
}

// Found by import_fuzz (fuzz/corpus/import/goatcounter_referrer_not_utf8): the host became a
// visit's referrer, which export wrote and import then refused (serve took it from Referer too).
TEST(ParseHttpUrlTest, RejectsHostsThatCannotBeStored) {
  EXPECT_FALSE(ParseHttpUrl("https://htt\x90\x8c\xc5\xcb/news.example/").has_value());
  EXPECT_FALSE(ParseHttpUrl("https://" + std::string(kMaxHostBytes + 1, 'a') + "/").has_value());
  EXPECT_EQ(ParseHttpUrl("https://" + std::string(kMaxHostBytes, 'a') + "/")->host.size(),
            kMaxHostBytes);
  EXPECT_EQ(ParseHttpUrl("https://b\xc3\xbc" "cher.example/")->host, "b\xc3\xbc" "cher.example");
}

TEST(NormalizePagePathTest, NormalisesSegments) {
  EXPECT_EQ(*NormalizePagePath("/"), "/");
  EXPECT_EQ(*NormalizePagePath("/blog//post"), "/blog/post");
  EXPECT_EQ(*NormalizePagePath("/a/./b/../c"), "/a/c");
  EXPECT_EQ(*NormalizePagePath("/../../etc"), "/etc");
  EXPECT_EQ(*NormalizePagePath("/docs/"), "/docs/");
  EXPECT_EQ(*NormalizePagePath("/page?utm=x#frag"), "/page");
  EXPECT_EQ(*NormalizePagePath("/caf\xc3\xa9"), "/caf\xc3\xa9");
}

TEST(NormalizePagePathTest, KeepsHashRouterRoutesOnly) {
  EXPECT_EQ(*NormalizePagePath("/#/about"), "/#/about");
  EXPECT_EQ(*NormalizePagePath("/app/#/a//b/../c/?tab=2"), "/app/#/a/c/");
  EXPECT_EQ(*NormalizePagePath("/#!/about"), "/#!/about");
  EXPECT_EQ(*NormalizePagePath("/#/"), "/#/");
  // Anchors, tokens and fragments after a query are not routes.
  EXPECT_EQ(*NormalizePagePath("/docs#install"), "/docs");
  EXPECT_EQ(*NormalizePagePath("/cb#access_token=secret"), "/cb");
  EXPECT_EQ(*NormalizePagePath("/page?x=1#/about"), "/page");
  EXPECT_EQ(NormalizePagePath("/#/a\nb").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(NormalizePagePath("/a#/" + std::string(kMaxPagePathBytes, 'b')).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(NormalizePagePathTest, RejectsInvalidPaths) {
  for (std::string bad : {std::string("relative"), std::string(""), std::string("/a\nb"),
                          std::string("/a\0b", 4), std::string("/\xff"),
                          "/" + std::string(kMaxPagePathBytes, 'a')}) {
    EXPECT_EQ(NormalizePagePath(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace footfall::core
