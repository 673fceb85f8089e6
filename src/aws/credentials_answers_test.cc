#include "aws/credentials_answers.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/clock.h"

namespace footfall::aws {
namespace {

TEST(CredentialsParsersTest, Iso8601Utc) {
  EXPECT_EQ(UnixMillis(*ParseIso8601Utc("1970-01-01T00:00:00Z")), 0);
  EXPECT_EQ(UnixMillis(*ParseIso8601Utc("2026-12-05T15:37:55Z")), 1796485075000);
  EXPECT_EQ(UnixMillis(*ParseIso8601Utc("2026-12-05T15:37:55.559488Z")), 1796485075559);
  EXPECT_EQ(UnixMillis(*ParseIso8601Utc("2026-12-05T15:37:55.5+00:00")), 1796485075500);
  for (const char* bad :
       {"", "2026-12-05", "2026-12-05T15:37:55", "2026-12-05 15:37:55Z", "2026-02-30T00:00:00Z",
        "2026-12-05T24:00:00Z", "2026-12-05T15:37:55.Z", "2026-12-05T15:37:55+01:00",
        "-026-12-05T15:37:55Z", "2026-12-05T1:37:55Z", "next tuesday",
        // Found by fuzzing: past 2262, a TimePoint (int64 nanoseconds) overflows.
        "4052-12-05T15:37:55Z"}) {
    EXPECT_FALSE(ParseIso8601Utc(bad).ok()) << bad;
  }
}

std::string StsAnswer(const std::string& credentials) {
  return "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
         "<AssumeRoleWithWebIdentityResult><Credentials>" +
         credentials +
         "</Credentials></AssumeRoleWithWebIdentityResult>"
         "</AssumeRoleWithWebIdentityResponse>";
}

TEST(CredentialsParsersTest, StsAnswer) {
  const std::string good =
      "<AccessKeyId>ASIAEXAMPLE</AccessKeyId><SecretAccessKey>a/b+c&lt;d&#61;</SecretAccessKey>"
      "<SessionToken>tok=</SessionToken><Expiration>2026-12-05T15:37:55Z</Expiration>";
  auto parsed = ParseAssumeRoleWithWebIdentityAnswer(StsAnswer(good));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->credentials.secret_access_key, "a/b+c<d=");
  EXPECT_EQ(parsed->credentials.session_token, "tok=");
  EXPECT_EQ(UnixMillis(parsed->expiration), 1796485075000);
  // An element whose name starts with another's is not mistaken for it.
  EXPECT_TRUE(
      ParseAssumeRoleWithWebIdentityAnswer(StsAnswer("<AccessKeyIdHint>x</AccessKeyIdHint>" + good))
          .ok());
  for (const std::string& bad :
       {std::string(""), std::string("<"), std::string("<AssumeRoleWithWebIdentityResponse"),
        StsAnswer(""), StsAnswer(good + "<SessionToken>again</SessionToken>"),
        StsAnswer("<AccessKeyId><![CDATA[ASIA]]></AccessKeyId>" +
                  good.substr(good.find("<Secret"))),
        StsAnswer("<AccessKeyId>ASIA&bogus;</AccessKeyId>" + good.substr(good.find("<Secret"))),
        StsAnswer("<AccessKeyId>ASIA&#0;</AccessKeyId>" + good.substr(good.find("<Secret"))),
        StsAnswer("<AccessKeyId>AS IA</AccessKeyId>" + good.substr(good.find("<Secret"))),
        StsAnswer("<AccessKeyId/>" + good.substr(good.find("<Secret"))),
        StsAnswer(good.substr(0, good.size() - 13))}) {
    auto result = ParseAssumeRoleWithWebIdentityAnswer(bad);
    EXPECT_FALSE(result.ok()) << bad;
    if (!result.ok()) {
      EXPECT_EQ(result.status().code(), StatusCode::kUnavailable);
    }
  }
}

TEST(CredentialsParsersTest, CredentialsJson) {
  const std::string good =
      R"({"AccessKeyId":"ASIAEXAMPLE","SecretAccessKey":"s/e+c","Token":"t",)"
      R"("Expiration":"2026-12-05T15:37:55Z","RoleArn":"arn:aws:iam::1:role/x"})";
  ASSERT_TRUE(ParseCredentialsJson(good).ok());
  const std::string expiration = R"("Expiration":"2026-12-05T15:37:55Z")";
  const std::vector<std::string> bad_answers = {
      "",
      "[]",
      "null",
      "\"x\"",
      "{",
      R"({"AccessKeyId":1})",
      R"({"Code":"Success","AccessKeyId":"A","SecretAccessKey":"s",)" + expiration + "}",
      R"({"Code":7,"AccessKeyId":"A","SecretAccessKey":"s","Token":"t",)" + expiration + "}",
      R"({"AccessKeyId":"A","SecretAccessKey":"s\nx","Token":"t",)" + expiration + "}",
      R"({"AccessKeyId":"A","SecretAccessKey":"s","Token":"",)" + expiration + "}",
      R"({"AccessKeyId":"A","SecretAccessKey":"s","Token":"t","Expiration":null})",
      "{\"AccessKeyId\":\"\xff\"}"};
  for (const std::string& bad : bad_answers) {
    EXPECT_FALSE(ParseCredentialsJson(bad).ok()) << bad;
  }
  // Deep nesting and a large answer are refused or parsed without a crash.
  EXPECT_FALSE(ParseCredentialsJson(std::string(5000, '[') + std::string(5000, ']')).ok());
}

}  // namespace
}  // namespace footfall::aws
