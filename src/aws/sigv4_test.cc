#include "aws/sigv4.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "aws/sigv4_internal.h"

namespace footfall::aws {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

// One request signed by botocore's SigV4Auth (tests/tools/sigv4_vectors.py).
struct BotocoreVector {
  std::string name;
  SignableRequest request;
  Credentials credentials;
  std::string region;
  std::string service;
  int64_t unix_seconds;
  std::string canonical_request;  // what botocore hashed, to make a mismatch easy to locate
  std::string string_to_sign;
  Headers added_headers;  // X-Amz-Date, X-Amz-Security-Token if any, Authorization
};

// Names the case in gtest failure messages instead of dumping its bytes.
void PrintTo(const BotocoreVector& v, std::ostream* os) { *os << v.name; }

#include "aws/sigv4_test_vectors.inc"

TimePoint At(int64_t unix_seconds) { return TimePoint(std::chrono::seconds(unix_seconds)); }

std::string Scope(const BotocoreVector& v) {
  return internal::AmzDate(At(v.unix_seconds)).substr(0, 8) + "/" + v.region + "/" + v.service +
         "/aws4_request";
}

Headers Sign(const BotocoreVector& v) {
  return SignV4(v.request, v.credentials, v.region, v.service, At(v.unix_seconds));
}

BotocoreVector Vector(std::string_view name) {
  for (BotocoreVector& v : BotocoreVectors()) {
    if (v.name == name) return v;
  }
  ADD_FAILURE() << "no botocore vector named " << name;
  return {};
}

class BotocoreVectorTest : public testing::TestWithParam<BotocoreVector> {};

TEST_P(BotocoreVectorTest, CanonicalRequestMatchesBotocore) {
  const BotocoreVector& v = GetParam();
  const std::string amz_date = internal::AmzDate(At(v.unix_seconds));
  EXPECT_EQ(internal::BuildCanonicalRequest(v.request, amz_date, v.credentials.session_token).text,
            v.canonical_request);
  EXPECT_EQ(internal::StringToSign(v.canonical_request, amz_date, Scope(v)), v.string_to_sign);
}

TEST_P(BotocoreVectorTest, SignV4MatchesBotocore) {
  const BotocoreVector& v = GetParam();
  EXPECT_EQ(Sign(v), v.added_headers);
}

INSTANTIATE_TEST_SUITE_P(Botocore, BotocoreVectorTest, testing::ValuesIn(BotocoreVectors()),
                         [](const testing::TestParamInfo<BotocoreVector>& info) {
                           return info.param.name;
                         });

// Literal values from the AWS documentation, so the test does not depend only on botocore.
TEST(SignV4Test, AwsDocumentationExample) {
  SignableRequest request{
      .method = "GET",
      .host = "iam.amazonaws.com",
      .path = "/",
      .query = "Action=ListUsers&Version=2010-05-08",
      .headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}},
      .body = "",
  };
  Credentials credentials{.access_key_id = "AKIDEXAMPLE",
                          .secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                          .session_token = ""};
  // 2015-08-30T12:36:00Z
  Headers signed_headers = SignV4(request, credentials, "us-east-1", "iam", At(1440938160));
  EXPECT_EQ(
      signed_headers,
      (Headers{{"X-Amz-Date", "20150830T123600Z"},
               {"Authorization",
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
                "SignedHeaders=content-type;host;x-amz-date, "
                "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"}}));
}

TEST(SignV4Test, AnyValidQueryEncodingSignsLikeBotocore) {
  BotocoreVector v = Vector("get_query_needing_encoding");
  // Same parameters, other order, lower-case hex, unreserved characters escaped, sub-delims and
  // '/' left raw, a name without '=' and empty pieces.
  v.request.query =
      "A=upper&&a=10&site=example%2Ecom&b=%32&a=z&a=y&q=hello%20world/%c3%bc%2b*%7e&empty"
      "&Key%20With%20Space=v%26%3dx&";
  EXPECT_EQ(Sign(v), v.added_headers);
}

TEST(SignV4Test, MalformedPercentEscapesAreSignedAsLiteralPercent) {
  SignableRequest request;
  request.method = "GET";
  request.host = "h";
  request.path = "/";
  request.query = "a=%zz&b=%4&c=%";
  EXPECT_EQ(internal::BuildCanonicalRequest(request, "20261125T132003Z", "").text,
            "GET\n/\na=%25zz&b=%254&c=%25\nhost:h\nx-amz-date:20261125T132003Z\n\nhost;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(SignV4Test, HeaderNameCaseAndOrderDoNotMatter) {
  BotocoreVector v = Vector("dynamodb_put_item_session_token");
  v.request.headers = {{"x-amz-target", "DynamoDB_20120810.PutItem"},
                       {"CONTENT-TYPE", "application/x-amz-json-1.0"}};
  EXPECT_EQ(Sign(v), v.added_headers);
}

TEST(SignV4Test, IgnoresCallerCopiesOfHeadersItSupplies) {
  BotocoreVector v = Vector("dynamodb_put_item_session_token");
  v.request.headers.emplace_back("Host", "attacker.example");
  v.request.headers.emplace_back("X-Amz-Date", "19700101T000000Z");
  v.request.headers.emplace_back("x-amz-security-token", "stale");
  v.request.headers.emplace_back("Authorization", "AWS4-HMAC-SHA256 from a previous attempt");
  EXPECT_EQ(Sign(v), v.added_headers);
}

TEST(SignV4Test, EmptyPathSignsAsSlash) {
  BotocoreVector v = Vector("dynamodb_put_item");
  v.request.path = "";
  EXPECT_EQ(Sign(v), v.added_headers);
}

TEST(SignV4Test, SubSecondPartOfNowIsIgnored) {
  BotocoreVector v = Vector("dynamodb_put_item");
  EXPECT_EQ(SignV4(v.request, v.credentials, v.region, v.service,
                   At(v.unix_seconds) + std::chrono::milliseconds(999)),
            v.added_headers);
}

TEST(SignV4Test, SignatureCoversBodyRegionAndTime) {
  BotocoreVector v = Vector("dynamodb_put_item");
  const std::string authorization = Sign(v).back().second;
  BotocoreVector other_body = v;
  other_body.request.body.back() = ' ';
  EXPECT_NE(Sign(other_body).back().second, authorization);
  BotocoreVector other_region = v;
  other_region.region = "eu-west-2";
  EXPECT_NE(Sign(other_region).back().second, authorization);
  BotocoreVector other_time = v;
  other_time.unix_seconds += 1;
  EXPECT_NE(Sign(other_time).back().second, authorization);
}

TEST(AmzDateTest, FormatsUtcWithZeroPadding) {
  EXPECT_EQ(internal::AmzDate(At(0)), "19700101T000000Z");
  EXPECT_EQ(internal::AmzDate(At(1709164799)), "20240228T235959Z");
  EXPECT_EQ(internal::AmzDate(At(1709164800)), "20240229T000000Z");  // leap day
  EXPECT_EQ(internal::AmzDate(At(1795612803)), "20261125T132003Z");
}

}  // namespace
}  // namespace footfall::aws
