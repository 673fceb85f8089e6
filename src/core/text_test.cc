#include "core/text.h"

#include <gtest/gtest.h>

namespace footfall::core {
namespace {

TEST(Utf8Test, AcceptsWellFormedText) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("Mozilla/5.0"));
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
}

TEST(Utf8Test, RejectsMalformedText) {
  EXPECT_FALSE(IsValidUtf8("\xff\xfe"));
  EXPECT_FALSE(IsValidUtf8("\xc3"));              // truncated
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
}

TEST(PercentDecodeTest, DecodesEscapesAndPlus) {
  EXPECT_EQ(*PercentDecode("a%20b+c", true), "a b c");
  EXPECT_EQ(*PercentDecode("a+b", false), "a+b");
  EXPECT_EQ(*PercentDecode("%2F%2f", false), "//");
}

TEST(PercentDecodeTest, RejectsBadEscapes) {
  EXPECT_FALSE(PercentDecode("%", true).ok());
  EXPECT_FALSE(PercentDecode("%4", true).ok());
  EXPECT_FALSE(PercentDecode("%zz", true).ok());
}

TEST(SanitizeUserAgentTest, RemovesControlCharactersAndTruncatesOnCodePoints) {
  EXPECT_EQ(*SanitizeUserAgent("Mozilla\r\n/5.0\x01"), "Mozilla/5.0");
  std::string long_agent(kMaxStoredUserAgentBytes - 1, 'a');
  long_agent += "\xc3\xa9\xc3\xa9";  // a 2-byte code point straddles the limit
  const std::string cleaned = *SanitizeUserAgent(long_agent);
  EXPECT_EQ(cleaned.size(), kMaxStoredUserAgentBytes - 1);
  EXPECT_TRUE(IsValidUtf8(cleaned));
}

TEST(SanitizeUserAgentTest, RejectsInvalidUtf8) {
  EXPECT_EQ(SanitizeUserAgent("\xff\xfe").status().code(), StatusCode::kInvalidArgument);
}

TEST(HtmlEscapeTest, EscapesTheFiveCharacters) {
  EXPECT_EQ(HtmlEscape("a&b<c>d\"e'f"), "a&amp;b&lt;c&gt;d&quot;e&#39;f");
}

}  // namespace
}  // namespace footfall::core
