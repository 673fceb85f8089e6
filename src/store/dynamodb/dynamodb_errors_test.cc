#include "store/dynamodb/dynamodb_errors.h"

#include <gtest/gtest.h>

namespace footfall::store::dynamodb {
namespace {

// A failed exchange as the HTTP client reports it.
aws::HttpOutcome Failed(bool may_have_reached_server, bool retry_can_help = true) {
  aws::HttpOutcome outcome;
  outcome.status = UnavailableError("connection reset");
  outcome.may_have_reached_server = may_have_reached_server;
  outcome.retry_can_help = retry_can_help;
  return outcome;
}

TEST(DynamoDbErrorsTest, ARequestNeverSentIsRepeatedEvenWhenNotIdempotent) {
  const AttemptVerdict verdict =
      AfterTransportFailure(Failed(/*may_have_reached_server=*/false), /*idempotent=*/false);
  EXPECT_TRUE(verdict.retry);
  EXPECT_FALSE(verdict.maybe_applied);
}

TEST(DynamoDbErrorsTest, ARefusedTlsHandshakeIsNeverRepeated) {
  for (const bool idempotent : {false, true}) {
    EXPECT_FALSE(AfterTransportFailure(Failed(false, /*retry_can_help=*/false), idempotent).retry);
  }
}

TEST(DynamoDbErrorsTest, ARequestThatMayHaveArrivedIsRepeatedOnlyWhenIdempotent) {
  EXPECT_FALSE(AfterTransportFailure(Failed(/*may_have_reached_server=*/true), false).retry);
  const AttemptVerdict idempotent = AfterTransportFailure(Failed(true), /*idempotent=*/true);
  EXPECT_TRUE(idempotent.retry);
  EXPECT_TRUE(idempotent.maybe_applied);
}

TEST(DynamoDbErrorsTest, ThrottlingIsRepeatedAndWasNotApplied) {
  for (const char* type : {"ProvisionedThroughputExceededException", "ThrottlingException",
                           "RequestLimitExceeded", "LimitExceededException",
                           "TransactionConflictException"}) {
    const AttemptVerdict verdict = AfterErrorResponse(400, type, /*idempotent=*/false);
    EXPECT_TRUE(verdict.retry) << type;
    EXPECT_FALSE(verdict.maybe_applied) << type;
    EXPECT_EQ(MapError(400, type, "").code(), StatusCode::kUnavailable) << type;
  }
}

TEST(DynamoDbErrorsTest, AServerErrorMayHaveBeenAppliedAndIsRepeatedOnlyWhenIdempotent) {
  EXPECT_FALSE(AfterErrorResponse(500, "InternalServerError", false).retry);
  const AttemptVerdict verdict = AfterErrorResponse(503, "", /*idempotent=*/true);
  EXPECT_TRUE(verdict.retry);
  EXPECT_TRUE(verdict.maybe_applied);
  EXPECT_EQ(MapError(503, "", "").code(), StatusCode::kUnavailable);
}

TEST(DynamoDbErrorsTest, ClientErrorsAreFinal) {
  for (const char* type : {"ConditionalCheckFailedException", "ValidationException",
                           "ResourceNotFoundException", "AccessDeniedException"}) {
    EXPECT_FALSE(AfterErrorResponse(400, type, /*idempotent=*/true).retry) << type;
  }
}

TEST(DynamoDbErrorsTest, ExpiredTokensAreRecognisedByType) {
  EXPECT_TRUE(IsExpiredToken("ExpiredTokenException"));
  EXPECT_TRUE(IsExpiredToken("ExpiredToken"));
  EXPECT_FALSE(IsExpiredToken("UnrecognizedClientException"));
  EXPECT_FALSE(IsExpiredToken(""));
}

TEST(DynamoDbErrorsTest, AnAnswerWithoutATypeIsNotDynamoDbsAndMayHaveBeenApplied) {
  for (int status : {200, 400, 418}) {
    const AttemptVerdict verdict = AfterErrorResponse(status, "", /*idempotent=*/true);
    EXPECT_TRUE(verdict.retry) << status;
    EXPECT_TRUE(verdict.maybe_applied) << status;
    EXPECT_FALSE(AfterErrorResponse(status, "", /*idempotent=*/false).retry) << status;
    EXPECT_EQ(MapError(status, "", "").code(), StatusCode::kUnavailable) << status;
  }
}

TEST(DynamoDbErrorsTest, ErrorTypesMapToFootfallCodesWithTypeAndMessageInTheText) {
  const Status exists = MapError(400, "ConditionalCheckFailedException", "The condition failed");
  EXPECT_EQ(exists.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(exists.message(), "ConditionalCheckFailedException: The condition failed");
  EXPECT_EQ(MapError(400, "ResourceNotFoundException", "").code(),
            StatusCode::kFailedPrecondition);
  for (const char* type : {"AccessDeniedException", "UnrecognizedClientException",
                           "InvalidSignatureException", "MissingAuthenticationTokenException",
                           "ExpiredTokenException", "IncompleteSignatureException"}) {
    EXPECT_EQ(MapError(400, type, "").code(), StatusCode::kFailedPrecondition) << type;
  }
  EXPECT_EQ(MapError(400, "ValidationException", "").code(), StatusCode::kInternal);
  EXPECT_EQ(MapError(400, "SerializationException", "").code(), StatusCode::kInternal);
  const Status unknown = MapError(418, "SomethingNewException", "");
  EXPECT_EQ(unknown.code(), StatusCode::kInternal);
  EXPECT_EQ(unknown.message(), "SomethingNewException");
  EXPECT_EQ(MapError(418, "", "").message(), "HTTP 418 without a DynamoDB error type");
}

}  // namespace
}  // namespace footfall::store::dynamodb
