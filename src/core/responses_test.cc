#include "core/responses.h"

#include <gtest/gtest.h>

namespace footfall::core {
namespace {

TEST(ResponsesTest, CountBodyIsTheSeedContract) {
  Response response = CountResponse(42);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(*response.FindHeader("content-type"), "application/json");
  EXPECT_EQ(response.body, R"({"count": 42, "message": "Visitor count updated successfully"})");
}

TEST(ResponsesTest, ErrorBodyHasStableCode) {
  Response response = ErrorResponse(404, "not_found", "No \"such\" route.");
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.body, R"({"error": "not_found", "message": "No \"such\" route."})");
}

TEST(ResponsesTest, StoreFailuresMapToRetryable503OrOpaque500) {
  for (Status retryable : {UnavailableError("SQLITE_BUSY"), ResourceExhaustedError("disk full"),
                           DeadlineExceededError("slow")}) {
    Response response = StoreFailureResponse(retryable);
    EXPECT_EQ(response.status, 503);
    EXPECT_EQ(*response.FindHeader("Retry-After"), "1");
    EXPECT_NE(response.body.find("store_unavailable"), std::string::npos);
    EXPECT_EQ(response.body.find(retryable.message()), std::string::npos);
  }
  Response internal = StoreFailureResponse(InternalError("near \"SELEC\": syntax error"));
  EXPECT_EQ(internal.status, 500);
  EXPECT_EQ(internal.body.find("SELEC"), std::string::npos);
}

TEST(JsonQuoteTest, EscapesControlCharacters) {
  EXPECT_EQ(JsonQuote("a\"b\\c\n\x01"), R"("a\"b\\c\n\u0001")");
}

}  // namespace
}  // namespace footfall::core
