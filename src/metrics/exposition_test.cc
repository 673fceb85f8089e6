#include "metrics/exposition.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

namespace footfall::metrics {
namespace {

std::string Double(double value) {
  std::string out;
  AppendDouble(value, out);
  return out;
}

TEST(ExpositionTest, EscapesHelpBackslashAndNewlineOnly) {
  std::string out;
  AppendEscapedHelp("a\\b\nc \"quoted\"", out);
  EXPECT_EQ(out, "a\\\\b\\nc \"quoted\"");
}

TEST(ExpositionTest, EscapesLabelValueBackslashQuoteAndNewline) {
  std::string out;
  AppendEscapedLabelValue("C:\\x \"y\"\nz", out);
  EXPECT_EQ(out, "C:\\\\x \\\"y\\\"\\nz");
}

TEST(ExpositionTest, FormatsDoublesAsPrometheusParsesThem) {
  EXPECT_EQ(Double(0), "0");
  EXPECT_EQ(Double(1), "1");
  EXPECT_EQ(Double(0.005), "0.005");
  EXPECT_EQ(Double(2.5), "2.5");
  EXPECT_EQ(Double(-1.25), "-1.25");
  EXPECT_EQ(Double(1e-9), "1e-09");
  EXPECT_EQ(Double(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(Double(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(Double(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(Double(std::nan("")), "NaN");
}

TEST(ExpositionTest, FormatsUnsignedIntegersExactly) {
  std::string out;
  AppendUint(18446744073709551615u, out);
  EXPECT_EQ(out, "18446744073709551615");
}

TEST(ExpositionTest, ReplacesInvalidUtf8) {
  EXPECT_EQ(ToValidUtf8("plain"), "plain");
  EXPECT_EQ(ToValidUtf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"),
            "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
  EXPECT_EQ(ToValidUtf8("a\xFF" "b"), "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(ToValidUtf8("\xC3"), "\xEF\xBF\xBD");                 // truncated
  EXPECT_EQ(ToValidUtf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong '/'
  EXPECT_EQ(ToValidUtf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
}

TEST(ExpositionTest, ChecksNames) {
  EXPECT_TRUE(IsValidMetricName("footfall_http_requests_total"));
  EXPECT_TRUE(IsValidMetricName("job:rate5m"));
  EXPECT_FALSE(IsValidMetricName(""));
  EXPECT_FALSE(IsValidMetricName("1abc"));
  EXPECT_FALSE(IsValidMetricName("a-b"));
  EXPECT_TRUE(IsValidLabelName("route"));
  EXPECT_TRUE(IsValidLabelName("_x1"));
  EXPECT_FALSE(IsValidLabelName("__name__"));
  EXPECT_FALSE(IsValidLabelName("a:b"));
  EXPECT_FALSE(IsValidLabelName(""));
}

}  // namespace
}  // namespace footfall::metrics
