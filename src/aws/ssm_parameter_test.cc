#include "aws/ssm_parameter.h"

#include <gtest/gtest.h>

namespace footfall::aws {
namespace {

TEST(ParseGetParameterAnswer, ReturnsTheValue) {
  StatusOr<std::string> value = ParseGetParameterAnswer(
      200, R"({"Parameter":{"Name":"/footfall/stats-token","Type":"SecureString",)"
           R"("Value":"s3cret-token","Version":2}})");
  ASSERT_TRUE(value.ok()) << value.status().ToString();
  EXPECT_EQ(*value, "s3cret-token");
}

TEST(ParseGetParameterAnswer, NamesErrorsByKind) {
  EXPECT_EQ(ParseGetParameterAnswer(400, R"({"__type":"ParameterNotFound","message":""})")
                .status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(ParseGetParameterAnswer(
                400, R"({"__type":"com.amazon.coral.service#AccessDeniedException"})")
                .status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(ParseGetParameterAnswer(400, R"({"__type":"KMSAccessDeniedException"})")
                .status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(ParseGetParameterAnswer(400, R"({"__type":"ThrottlingException"})").status().code(),
            StatusCode::kUnavailable);
  EXPECT_EQ(ParseGetParameterAnswer(500, "<html>oops</html>").status().code(),
            StatusCode::kUnavailable);
}

TEST(ParseGetParameterAnswer, OddAnswersAreErrorsNeverCrashes) {
  for (const char* body :
       {"", "null", "[]", R"({"Parameter":1})", R"({"Parameter":{"Value":7}})",
        R"({"Parameter":{}})", R"({"__type":123,"message":["x"]})", "\xff\xfe"}) {
    EXPECT_FALSE(ParseGetParameterAnswer(200, body).ok()) << body;
    EXPECT_FALSE(ParseGetParameterAnswer(400, body).ok()) << body;
  }
  EXPECT_EQ(ParseGetParameterAnswer(200, R"({"Parameter":{"Value":""}})").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseGetParameterAnswer(200, R"({"Parameter":{"Value":"a\nb"}})").status().code(),
            StatusCode::kInvalidArgument);
  const std::string huge = R"({"Parameter":{"Value":")" + std::string(9000, 'a') + R"("}})";
  EXPECT_EQ(ParseGetParameterAnswer(200, huge).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace footfall::aws
