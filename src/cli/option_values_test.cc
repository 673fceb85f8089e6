#include "cli/option_values.h"

#include <gtest/gtest.h>

namespace footfall::cli {
namespace {

TEST(ParseHostPortTest, AcceptsIpv4Ipv6AndNames) {
  EXPECT_EQ(ParseHostPort("127.0.0.1:8080")->port, 8080);
  EXPECT_EQ(ParseHostPort("127.0.0.1:8080")->host, "127.0.0.1");
  EXPECT_EQ(ParseHostPort("[::1]:0")->host, "::1");
  EXPECT_EQ(ParseHostPort("localhost:9")->port, 9);
}

TEST(ParseHostPortTest, RejectsMalformedValues) {
  for (const char* bad : {"8080", ":8080", "host:", "host:65536", "::1:80", "host:8x", "[::1:80"}) {
    EXPECT_EQ(ParseHostPort(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(SplitListTest, TrimsAndDropsEmptyEntries) {
  EXPECT_EQ(SplitList(" https://a.example , ,https://b.example"),
            (std::vector<std::string>{"https://a.example", "https://b.example"}));
  EXPECT_TRUE(SplitList("").empty());
}

}  // namespace
}  // namespace footfall::cli
