#include "core/cors.h"

#include <gtest/gtest.h>

namespace footfall::core {
namespace {

TEST(CorsPolicyTest, AllowsExactlyTheMatchingOrigin) {
  CorsPolicy policy = *CorsPolicy::Create({"https://a.example", "https://B.example/"});
  EXPECT_EQ(*policy.AllowOriginFor("https://a.example"), "https://a.example");
  EXPECT_EQ(*policy.AllowOriginFor("https://b.example"), "https://b.example");
  EXPECT_FALSE(policy.AllowOriginFor("https://evil.example").has_value());
  EXPECT_FALSE(policy.AllowOriginFor("http://a.example").has_value());
  EXPECT_FALSE(policy.AllowOriginFor("https://a.example.evil.example").has_value());
  EXPECT_FALSE(policy.AllowOriginFor("null").has_value());
}

TEST(CorsPolicyTest, WildcardOnlyWhenConfigured) {
  EXPECT_FALSE(CorsPolicy::Create({})->AllowOriginFor("https://a.example").has_value());
  EXPECT_EQ(*CorsPolicy::Create({"*"})->AllowOriginFor("https://a.example"), "*");
}

TEST(CorsPolicyTest, RejectsMalformedConfiguration) {
  EXPECT_EQ(CorsPolicy::Create({"a.example"}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(CorsPolicy::Create({"https://a.example/path"}).ok());
}

TEST(CorsPolicyTest, PreflightHeadersForAllowedOriginOnly) {
  CorsPolicy policy = *CorsPolicy::Create({"https://a.example"});
  Response allowed;
  policy.AddResponseHeaders("https://a.example", allowed);
  policy.AddPreflightHeaders("https://a.example", "GET, OPTIONS", allowed);
  EXPECT_EQ(*allowed.FindHeader("Access-Control-Allow-Origin"), "https://a.example");
  EXPECT_EQ(*allowed.FindHeader("Access-Control-Allow-Methods"), "GET, OPTIONS");
  EXPECT_EQ(*allowed.FindHeader("Access-Control-Allow-Headers"), "Content-Type");
  EXPECT_EQ(*allowed.FindHeader("Access-Control-Max-Age"), "86400");
  EXPECT_EQ(*allowed.FindHeader("Vary"), "Origin");

  Response denied;
  policy.AddResponseHeaders("https://evil.example", denied);
  policy.AddPreflightHeaders("https://evil.example", "GET, OPTIONS", denied);
  EXPECT_FALSE(denied.FindHeader("Access-Control-Allow-Origin").has_value());
  EXPECT_FALSE(denied.FindHeader("Access-Control-Allow-Methods").has_value());
  EXPECT_EQ(*denied.FindHeader("Vary"), "Origin");
}

}  // namespace
}  // namespace footfall::core
