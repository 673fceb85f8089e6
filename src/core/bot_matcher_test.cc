#include "core/bot_matcher.h"

#include <gtest/gtest.h>

namespace footfall::core {
namespace {

constexpr BotPattern kPatterns[] = {
    {R"(Googlebot\/)", BotCategory::kCrawler},
    {R"(HeadlessChrome)", BotCategory::kHeadless},
    {R"(^curl)", BotCategory::kListedLibrary},
    {R"(Feed[\s\S]*Reader)", BotCategory::kFeedReader},
};

TEST(BotMatcherTest, ReportsTheCategoriesOfEveryPatternThatMatches) {
  std::unique_ptr<BotMatcher> matcher = *BotMatcher::Create(kPatterns);
  EXPECT_EQ(matcher->size(), 4u);
  BotCategories both = *matcher->Match("HeadlessChrome/120 (compatible; Googlebot/2.1)");
  EXPECT_TRUE(both.Has(BotCategory::kCrawler));
  EXPECT_TRUE(both.Has(BotCategory::kHeadless));
  EXPECT_FALSE(both.Has(BotCategory::kFeedReader));
  EXPECT_EQ(both.Strongest(), BotCategory::kHeadless);
  EXPECT_EQ(matcher->Match("My Feed Reader")->Strongest(), BotCategory::kFeedReader);
  EXPECT_TRUE(matcher->Match("curl/8.5.0")->Has(BotCategory::kListedLibrary));
  EXPECT_TRUE(matcher->Match("Mozilla/5.0 curl/8.5.0")->empty());  // anchored
  EXPECT_TRUE(matcher->Match("googlebot/2.1")->empty());           // case-sensitive, as published
  EXPECT_TRUE(matcher->Match("")->empty());
}

TEST(BotMatcherTest, NoPatternsMatchNothing) {
  std::unique_ptr<BotMatcher> matcher = *BotMatcher::Create({});
  EXPECT_TRUE(matcher->Match("Googlebot/2.1")->empty());
}

TEST(BotMatcherTest, APatternRe2RejectsIsNamed) {
  constexpr BotPattern kLookahead[] = {{"ok", BotCategory::kCrawler},
                                       {"Bot(?=/)", BotCategory::kCrawler}};
  StatusOr<std::unique_ptr<BotMatcher>> matcher = BotMatcher::Create(kLookahead);
  ASSERT_FALSE(matcher.ok());
  EXPECT_EQ(matcher.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(matcher.status().message().find("Bot(?=/)"), std::string::npos);
}

TEST(BotMatcherTest, PatternsThatDoNotFitTheMemoryBudgetAreAnError) {
  StatusOr<std::unique_ptr<BotMatcher>> matcher = BotMatcher::Create(kPatterns, 1024);
  ASSERT_FALSE(matcher.ok());
  EXPECT_EQ(matcher.status().code(), StatusCode::kResourceExhausted);
}

TEST(BotMatcherTest, StrongestIsTheMostSpecificCategory) {
  BotCategories categories;
  EXPECT_TRUE(categories.empty());
  categories.Add(BotCategory::kHttpLibrary);
  categories.Add(BotCategory::kCrawler);
  categories.Add(BotCategory::kScanner);
  EXPECT_EQ(categories.Strongest(), BotCategory::kScanner);
}

}  // namespace
}  // namespace footfall::core
