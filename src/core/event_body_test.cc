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

}  // namespace
}  // namespace footfall::core
