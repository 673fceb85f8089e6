#include "lambda/scheduled_event.h"

#include <gtest/gtest.h>

namespace footfall::lambda {
namespace {

TEST(IsScheduledEvent, RecognisesEventBridgesScheduledEvent) {
  // The shape EventBridge documents for a scheduled rule's target.
  EXPECT_TRUE(IsScheduledEvent(R"({"version":"0","id":"53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
      "detail-type":"Scheduled Event","source":"aws.events","account":"123456789012",
      "time":"2026-12-05T00:00:30Z","region":"us-east-1",
      "resources":["arn:aws:events:us-east-1:123456789012:rule/footfall-maintenance"],
      "detail":{}})"));
}

TEST(IsScheduledEvent, RejectsEverythingElse) {
  EXPECT_FALSE(IsScheduledEvent(""));
  EXPECT_FALSE(IsScheduledEvent("not json"));
  EXPECT_FALSE(IsScheduledEvent("[]"));
  EXPECT_FALSE(IsScheduledEvent(R"({"source":"aws.events"})"));
  EXPECT_FALSE(IsScheduledEvent(R"({"source":"aws.events","detail-type":"EC2 State Change"})"));
  EXPECT_FALSE(IsScheduledEvent(R"({"source":"my.app","detail-type":"Scheduled Event"})"));
  EXPECT_FALSE(IsScheduledEvent(R"({"source":1,"detail-type":"Scheduled Event"})"));
  EXPECT_FALSE(IsScheduledEvent(R"({"version":"2.0","routeKey":"GET /count"})"));
}

}  // namespace
}  // namespace footfall::lambda
