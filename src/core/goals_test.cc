#include "core/goals.h"

#include <gtest/gtest.h>

namespace footfall::core {
namespace {

store::Visit PageView(const char* path) {
  store::Visit visit;
  visit.path = path;
  return visit;
}

store::Visit Event(const char* name) {
  store::Visit visit;
  visit.path = "/thanks";
  visit.event = name;
  return visit;
}

TEST(GoalsTest, ParsesEventAndPageGoalsInOrder) {
  StatusOr<Goals> goals = Goals::Parse(" event:signup, page:/thanks ,page:/docs/*,");
  ASSERT_TRUE(goals.ok()) << goals.status().ToString();
  const std::vector<std::string> names = {"event:signup", "page:/thanks", "page:/docs/*"};
  EXPECT_EQ(goals->names(), names);
  EXPECT_TRUE(Goals::Parse("")->empty());
}

TEST(GoalsTest, RefusesWhatCouldNeverMatchNamingTheEntry) {
  for (const char* bad : {"signup", "event:", "page:docs", "page:/a//b", "page:/x,page:/x",
                          "url:/x"}) {
    StatusOr<Goals> goals = Goals::Parse(bad);
    EXPECT_EQ(goals.status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_NE(Goals::Parse("page:docs").status().message().find("page:docs"), std::string::npos);
  std::string many;
  for (size_t i = 0; i <= kMaxGoals; ++i) many += "event:e" + std::to_string(i) + ",";
  EXPECT_FALSE(Goals::Parse(many).ok());
}

TEST(GoalsTest, AVisitReachesTheGoalsItMatches) {
  const Goals goals = *Goals::Parse("event:signup,page:/thanks,page:/docs/*");
  EXPECT_EQ(goals.ReachedBy(PageView("/thanks")), std::vector<std::string>{"page:/thanks"});
  EXPECT_EQ(goals.ReachedBy(PageView("/docs/a/b")), std::vector<std::string>{"page:/docs/*"});
  EXPECT_TRUE(goals.ReachedBy(PageView("/docs")).empty());
  EXPECT_EQ(goals.ReachedBy(Event("signup")), std::vector<std::string>{"event:signup"});
  EXPECT_TRUE(goals.ReachedBy(Event("Signup")).empty()) << "event names are exact";
  EXPECT_TRUE(goals.ReachedBy(Event("other")).empty()) << "an event is no page view of /thanks";
}

TEST(GoalsTest, PagePatternsMatchAnyRunWhereAStarIs) {
  EXPECT_TRUE(MatchesPagePattern("/docs/*", "/docs/"));
  EXPECT_TRUE(MatchesPagePattern("/*/edit", "/a/b/edit"));
  EXPECT_TRUE(MatchesPagePattern("*", "/"));
  EXPECT_FALSE(MatchesPagePattern("/docs/*", "/doc"));
  EXPECT_FALSE(MatchesPagePattern("/a*b", "/a/c"));
  // No exponential backtracking on adversarial paths.
  EXPECT_FALSE(MatchesPagePattern("/*a*a*a*a*a*a*a*b", "/" + std::string(500, 'a')));
}

}  // namespace
}  // namespace footfall::core
