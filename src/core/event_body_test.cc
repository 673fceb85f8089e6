#include "core/event_body.h"

#include <gtest/gtest.h>

namespace footfall::core {
namespace {

TEST(ParseEventBodyTest, ReadsTheBeaconFields) {
  StatusOr<EventBody> event =
      ParseEventBody(R"({"path":"/blog/x","referrer":"https://news.example/a","screen":1280})");
  ASSERT_TRUE(event.ok()) << event.status().ToString();
  EXPECT_EQ(event->path, "/blog/x");
  EXPECT_EQ(event->referrer, "https://news.example/a");
  EXPECT_EQ(event->screen_width, 1280);
}

TEST(ParseEventBodyTest, EveryFieldIsOptionalAndUnknownOnesAreIgnored) {
  StatusOr<EventBody> event = ParseEventBody(R"({"title":"x","path":null})");
  ASSERT_TRUE(event.ok());
  EXPECT_FALSE(event->path.has_value());
  EXPECT_EQ(event->referrer, "");
  EXPECT_EQ(event->screen_width, 0);
}

TEST(ParseEventBodyTest, RejectsWhatIsNotASmallWellTypedObject) {
  for (std::string_view bad :
       {"", "[]", "\"x\"", "{", R"({"path":1})", R"({"referrer":{}})", R"({"screen":"wide"})",
        R"({"screen":-1})", R"({"screen":1e9})", "{\"path\":\"\xff\"}"}) {
    EXPECT_EQ(ParseEventBody(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_FALSE(ParseEventBody("{\"path\":\"" + std::string(kMaxEventBodyBytes, 'a') + "\"}").ok());
}

TEST(ScreenClassTest, BucketsWidthsCoarsely) {
  EXPECT_EQ(ScreenClass(0), "");
  EXPECT_EQ(ScreenClass(390), "<600");
  EXPECT_EQ(ScreenClass(768), "600-1023");
  EXPECT_EQ(ScreenClass(1280), "1024-1439");
  EXPECT_EQ(ScreenClass(2560), "1440+");
}

TEST(ParseEventBodyTest, ReadsACustomEventWithPropertiesCampaignAndUrl) {
  StatusOr<EventBody> event = ParseEventBody(
      R"({"name":"Signup","props":{"tier":"x","plan":"pro"},"utm":{"source":" News ","utm_medium":"Email"},)"
      R"("url":"https://me.example/a?utm_campaign=launch"})");
  ASSERT_TRUE(event.ok()) << event.status().ToString();
  EXPECT_EQ(event->name, "Signup");
  const std::vector<std::pair<std::string, std::string>> props = {{"plan", "pro"}, {"tier", "x"}};
  EXPECT_EQ(event->props, props) << "sorted by key";
  EXPECT_EQ(event->campaign.source, "news");
  EXPECT_EQ(event->campaign.medium, "email");
  EXPECT_EQ(event->url, "https://me.example/a?utm_campaign=launch");
  EXPECT_EQ(ParseEventBody(R"({"name":"pageview"})")->name, "") << "a page view";
}

TEST(ParseEventBodyTest, RefusesEventsAndPropertiesPastTheirLimitsNamingTheField) {
  auto message = [](const std::string& body) {
    StatusOr<EventBody> event = ParseEventBody(body);
    EXPECT_EQ(event.status().code(), StatusCode::kInvalidArgument) << body;
    return event.status().message();
  };
  EXPECT_NE(message(R"({"name":""})").find("name"), std::string::npos);
  EXPECT_NE(message(R"({"name":")" + std::string(65, 'n') + "\"}").find("name"), std::string::npos);
  EXPECT_NE(message(R"({"name":"a\u0001b"})").find("name"), std::string::npos);
  EXPECT_NE(message(R"({"name":7})").find("name"), std::string::npos);
  EXPECT_NE(message(R"({"props":[]})").find("props"), std::string::npos);
  EXPECT_NE(message(R"({"props":{"plan":3}})").find("props.plan"), std::string::npos);
  EXPECT_NE(message(R"({"props":{"v":")" + std::string(257, 'v') + "\"}}").find("props.v"),
            std::string::npos);
  EXPECT_NE(message(R"({"props":{")" + std::string(65, 'k') + "\":\"v\"}}").find("props keys"),
            std::string::npos);
  std::string eleven = "{\"props\":{";
  for (int i = 0; i < 11; ++i) eleven += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":\"v\"";
  EXPECT_NE(message(eleven + "}}").find("at most 10"), std::string::npos);
  EXPECT_NE(message(R"({"props":{"ip":"client 203.0.113.7"}})").find("IP address"),
            std::string::npos);
  EXPECT_NE(message(R"({"props":{"ip":"2001:db8::1"}})").find("IP address"), std::string::npos);
  EXPECT_NE(message(R"({"utm":{"source":1}})").find("utm.source"), std::string::npos);
  EXPECT_NE(message(R"({"utm":"x"})").find("utm"), std::string::npos);
  EXPECT_NE(message(R"({"url":5})").find("url"), std::string::npos);
}

TEST(ParseEventBodyTest, ReadsPlausiblesShortKeys) {
  // As plausible-tracker 0.3.9 sends it (src/lib/request.ts): props as their JSON text.
  StatusOr<EventBody> event = ParseEventBody(
      R"({"n":"Signup","u":"https://me.example/#/pricing?x=1","d":"me.example","r":null,)"
      R"("w":1280,"h":1,"p":"{\"plan\":\"pro\",\"seats\":3,\"trial\":true,\"ratio\":0.5}"})");
  ASSERT_TRUE(event.ok()) << event.status().ToString();
  EXPECT_TRUE(event->plausible);
  EXPECT_EQ(event->name, "Signup");
  EXPECT_EQ(event->url, "https://me.example/#/pricing?x=1");
  EXPECT_TRUE(event->hash_mode);
  EXPECT_EQ(event->screen_width, 1280);
  const std::vector<std::pair<std::string, std::string>> props = {
      {"plan", "pro"}, {"ratio", "0.5"}, {"seats", "3"}, {"trial", "true"}};
  EXPECT_EQ(event->props, props);
  StatusOr<EventBody> view = ParseEventBody(R"({"n":"pageview","u":"https://me.example/a","d":"x","w":390,"h":0})");
  ASSERT_TRUE(view.ok());
  EXPECT_TRUE(view->plausible);
  EXPECT_EQ(view->name, "");
  EXPECT_FALSE(view->hash_mode);
  EXPECT_FALSE(ParseEventBody(R"({"path":"/"})")->plausible);
  for (std::string_view bad : {R"({"n":1})", R"({"d":2})", R"({"h":"1"})", R"({"p":"not json"})",
                               R"({"p":"{\"a\":{}}"})", R"({"props":{"a":3}})"}) {
    EXPECT_EQ(ParseEventBody(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(ContainsIpAddressTest, FindsAddressesAloneOrAmongWords) {
  for (std::string_view text : {"1.2.3.4", "ip=10.0.0.1;", "[::1]", "fe80::1%eth0", "2001:db8::",
                                "from 198.51.100.23:443"}) {
    EXPECT_TRUE(ContainsIpAddress(text)) << text;
  }
  for (std::string_view text : {"pro", "10:30", "v1.2", "1.2.3", "cafe", "2026-12-06", "a:b:c",
                                "deadbeef", "1.2.3.4.5.6.7.8.9.0.1.2.3.4.5.6.7.8.9.0.1.2.3.4.5.6"}) {
    EXPECT_FALSE(ContainsIpAddress(text)) << text;
  }
}

}  // namespace
}  // namespace footfall::core
