#include "base/utc_time.h"

#include <gtest/gtest.h>

namespace footfall {
namespace {

TEST(ParseUtcTimeTest, DatesAndTimes) {
  bool date_only = false;
  EXPECT_EQ(*ParseUtcTime("1970-01-02", date_only), 86'400'000);
  EXPECT_TRUE(date_only);
  EXPECT_EQ(*ParseUtcTime("1970-01-01T00:00:01Z", date_only), 1000);
  EXPECT_FALSE(date_only);
  EXPECT_EQ(*ParseUtcTime("1970-01-01T00:00:01.250Z", date_only), 1250);
  for (const char* bad : {"", "2026-13-01", "2026-02-30", "2026-1-01", "26-01-01",
                          "2026-01-01T25:00:00Z", "2026-01-01T10:00:00", "2026-01-01 10:00:00Z",
                          "1969-12-31"}) {
    EXPECT_FALSE(ParseUtcTime(bad, date_only).ok()) << bad;
  }
}

// Found by stats_query_fuzz (fuzz/corpus/stats_query/negative_minute): from_chars took the '-', so
// these parsed as the minute or second before, or as an instant before 1970.
TEST(ParseUtcTimeTest, SignedFieldsAreRejected) {
  bool date_only = false;
  for (const char* bad : {"2026-11-24T00:-0:00Z", "2026-11-24T-1:00:00Z", "1970-01-01T00:00:-1Z",
                          "2026-11-24T00:00:00.-01Z", "2026--1-01", "2026-01--1", "-001-01-01"}) {
    EXPECT_FALSE(ParseUtcTime(bad, date_only).ok()) << bad;
  }
}

TEST(FormatUtcMillisTest, RoundTripsThroughTheParser) {
  EXPECT_EQ(FormatUtcMillis(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatUtcMillis(1'795'600'800'123), "2026-11-25T10:00:00.123Z");
  bool date_only = true;
  EXPECT_EQ(*ParseUtcTime(FormatUtcMillis(1'795'600'800'123), date_only), 1'795'600'800'123);
  EXPECT_FALSE(date_only);
}

}  // namespace
}  // namespace footfall
