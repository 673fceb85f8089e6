#include "core/request_log.h"

#include <gtest/gtest.h>

namespace footfall::core {
namespace {

TEST(RequestLogTest, OneJsonLineWithRouteNotTarget) {
  Response response;
  response.status = 200;
  response.route = "/count";
  response.store_batch_size = 17;
  const std::string line = FormatRequestLogLine(TimePoint(std::chrono::milliseconds(0)), "r-1",
                                                "GET", response, 812);
  EXPECT_EQ(line,
            R"({"time":"1970-01-01T00:00:00.000Z","request_id":"r-1","method":"GET",)"
            R"("route":"/count","status":200,"latency_us":812,"batch":17})");
}

TEST(RequestLogTest, UnknownMethodsAreNotEchoed) {
  Response response;
  const std::string line = FormatRequestLogLine(TimePoint(), "r", "X\"INJECT", response, 1);
  EXPECT_NE(line.find("\"method\":\"OTHER\""), std::string::npos);
  EXPECT_EQ(line.find("INJECT"), std::string::npos);
}

}  // namespace
}  // namespace footfall::core
