#include "core/badge.h"

#include <gtest/gtest.h>

namespace footfall::core {
namespace {

TEST(CounterTargetTest, PathsAndFormats) {
  EXPECT_FALSE(ParseCounterTarget("/count").has_value());
  CounterTarget blog = **ParseCounterTarget("/counter/blog/post.json");
  EXPECT_EQ(blog.path, "/blog/post");
  EXPECT_EQ(blog.format, CounterFormat::kJson);
  CounterTarget root = **ParseCounterTarget("/counter/.svg");
  EXPECT_EQ(root.path, "/");
  EXPECT_EQ(root.format, CounterFormat::kSvg);
  EXPECT_EQ((**ParseCounterTarget("/counter/caf%C3%A9.json")).path, "/caf\xc3\xa9");
  EXPECT_FALSE(ParseCounterTarget("/counter/blog.png")->ok());
  EXPECT_FALSE(ParseCounterTarget("/counter/%FF.json")->ok());
}

TEST(CounterBadgeTest, EscapedTextAndGroupedDigits) {
  const std::string svg = CounterBadgeSvg("<visits>", 1234567);
  EXPECT_NE(svg.find("&lt;visits&gt;"), std::string::npos);
  EXPECT_NE(svg.find(">1,234,567<"), std::string::npos);
  EXPECT_EQ(svg.find("<visits>"), std::string::npos);
  EXPECT_NE(CounterBadgeSvg("visits", 12).find(">12<"), std::string::npos);
  EXPECT_NE(CounterBadgeSvg("visits", 123).find(">123<"), std::string::npos);
  EXPECT_NE(CounterBadgeSvg("visits", 1000).find(">1,000<"), std::string::npos);
}

}  // namespace
}  // namespace footfall::core
