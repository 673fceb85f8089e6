#include "lambda/api_gateway_event.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <iterator>

namespace footfall::lambda {
namespace {

std::string ReadEvent(const std::string& name) {
  std::ifstream in(std::string(FOOTFALL_EVENTS_DIR) + "/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << name;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

TEST(ApiGatewayEventTest, RestV1SampleEvent) {
  ApiGatewayRequest parsed = *ParseApiGatewayEvent(ReadEvent("apigw_rest_v1_get_count.json"));
  EXPECT_EQ(parsed.format, PayloadFormat::kRestV1);
  EXPECT_EQ(parsed.request.method, "GET");
  EXPECT_EQ(parsed.request.target.substr(0, 6), "/count");
  EXPECT_EQ(parsed.request.peer_address, "203.0.113.9");
  EXPECT_EQ(*parsed.request.FindHeader("origin"), "https://me.example");
}

TEST(ApiGatewayEventTest, HttpV2SampleEventKeepsRawQuery) {
  ApiGatewayRequest parsed = *ParseApiGatewayEvent(ReadEvent("apigw_http_v2_get_count.json"));
  EXPECT_EQ(parsed.format, PayloadFormat::kHttpV2);
  EXPECT_EQ(parsed.request.target, "/count?path=%2Fblog%2Fpost");
  EXPECT_EQ(parsed.request.peer_address, "203.0.113.9");
  EXPECT_EQ(*parsed.request.FindHeader("User-Agent").value_or("").data(), 'M');
}

TEST(ApiGatewayEventTest, NamedStagePrefixIsStripped) {
  ApiGatewayRequest parsed =
      *ParseApiGatewayEvent(ReadEvent("apigw_http_v2_get_count_named_stage.json"));
  EXPECT_EQ(parsed.request.target.substr(0, 6), "/count");
}

TEST(ApiGatewayEventTest, NullHeadersAndMissingSourceIpAreFine) {
  ApiGatewayRequest null_headers =
      *ParseApiGatewayEvent(ReadEvent("apigw_rest_v1_null_headers.json"));
  EXPECT_TRUE(null_headers.request.headers.empty());
  ApiGatewayRequest no_ip =
      *ParseApiGatewayEvent(ReadEvent("apigw_rest_v1_get_count_no_source_ip.json"));
  EXPECT_EQ(no_ip.request.peer_address, "");
}

TEST(ApiGatewayEventTest, V1QueryValuesAreReEncoded) {
  const std::string event = R"({"httpMethod":"GET","path":"/count",
    "queryStringParameters":{"path":"/a b&c"},"headers":{}})";
  EXPECT_EQ(ParseApiGatewayEvent(event)->request.target, "/count?path=/a%20b%26c");
}

TEST(ApiGatewayEventTest, Base64BodiesAreDecoded) {
  ApiGatewayRequest parsed =
      *ParseApiGatewayEvent(ReadEvent("apigw_http_v2_post_count_base64_body.json"));
  EXPECT_EQ(parsed.request.method, "POST");
  EXPECT_EQ(parsed.request.body,
            "path=%2Fblog%2Fpost&ref=https%3A%2F%2Fsearch.example%2F");
  const std::string plain = R"({"httpMethod":"POST","path":"/api/event","headers":{},
    "body":"{\"path\":\"/a\"}","isBase64Encoded":false})";
  EXPECT_EQ(ParseApiGatewayEvent(plain)->request.body, R"({"path":"/a"})");
  for (const char* body : {"YQ==", "YWI=", "YWJj"}) {
    const std::string event = std::string(R"({"httpMethod":"POST","path":"/e","body":")") + body +
                              R"(","isBase64Encoded":true})";
    EXPECT_EQ(ParseApiGatewayEvent(event)->request.body.size(), std::string_view(body).find('=') == std::string_view::npos ? 3u : (std::string_view(body) == "YQ==" ? 1u : 2u)) << body;
  }
  EXPECT_FALSE(ParseApiGatewayEvent(R"({"httpMethod":"POST","path":"/e","body":"!!!","isBase64Encoded":true})").ok());
  EXPECT_FALSE(ParseApiGatewayEvent(R"({"httpMethod":"POST","path":"/e","body":5})").ok());
}

TEST(ApiGatewayEventTest, RejectsMalformedEvents) {
  EXPECT_EQ(ParseApiGatewayEvent(ReadEvent("invalid_json.txt")).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_FALSE(ParseApiGatewayEvent(ReadEvent("neither_format.json")).ok());
  EXPECT_FALSE(ParseApiGatewayEvent("[1,2]").ok());
  EXPECT_FALSE(ParseApiGatewayEvent(R"({"httpMethod":"GET","path":"/c","headers":{"a":1}})").ok());
  EXPECT_FALSE(ParseApiGatewayEvent(R"({"version":"2.0","rawPath":"/c"})").ok());
  EXPECT_FALSE(ParseApiGatewayEvent(std::string(kMaxEventBytes + 1, ' ')).ok());
  std::string many = R"({"httpMethod":"GET","path":"/c","headers":{)";
  for (size_t i = 0; i <= kMaxEventHeaders; ++i) many += (i ? "," : "") + ("\"h" + std::to_string(i) + "\":\"v\"");
  EXPECT_FALSE(ParseApiGatewayEvent(many + "}}").ok());
}

TEST(ApiGatewayEventTest, ResponseShape) {
  core::Response response;
  response.status = 200;
  response.AddHeader("Content-Type", "application/json");
  response.AddHeader("Vary", "Origin");
  response.AddHeader("Vary", "Accept");
  response.body = R"({"count": 1})";
  // HTTP API (2.0): one map, repeated names joined.
  auto json = nlohmann::json::parse(FormatApiGatewayResponse(response, PayloadFormat::kHttpV2));
  EXPECT_EQ(json["statusCode"], 200);
  EXPECT_EQ(json["headers"]["Content-Type"], "application/json");
  EXPECT_EQ(json["headers"]["Vary"], "Origin, Accept");
  EXPECT_FALSE(json.contains("multiValueHeaders"));
  EXPECT_EQ(json["body"], R"({"count": 1})");
  EXPECT_EQ(json["isBase64Encoded"], false);
  // REST (1.0): a repeated name only in multiValueHeaders, each value on its own line.
  json = nlohmann::json::parse(FormatApiGatewayResponse(response, PayloadFormat::kRestV1));
  EXPECT_EQ(json["headers"], nlohmann::json({{"Content-Type", "application/json"}}));
  EXPECT_EQ(json["multiValueHeaders"], nlohmann::json({{"Vary", {"Origin", "Accept"}}}));
  EXPECT_EQ(json["body"], R"({"count": 1})");
}

}  // namespace
}  // namespace footfall::lambda
