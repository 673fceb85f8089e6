#include "store/dynamodb/dynamodb_errors.h"

namespace footfall::store::dynamodb {

bool IsThrottling(const std::string& type) {
  return type == "ProvisionedThroughputExceededException" || type == "ThrottlingException" ||
         type == "RequestLimitExceeded" || type == "LimitExceededException" ||
         type == "TransactionConflictException";
}

bool IsExpiredToken(const std::string& type) {
  return type == "ExpiredTokenException" || type == "ExpiredToken";
}

Status MapError(int http_status, const std::string& type, const std::string& message) {
  if (type.empty()) {
    // Not DynamoDB's answer (a proxy's error page, a truncated or garbled body): the service is
    // not usable now, which says nothing about the request itself.
    std::string text = "HTTP " + std::to_string(http_status) + " without a DynamoDB error type";
    if (!message.empty()) text += ": " + message;
    return UnavailableError(text);
  }
  std::string text = type;
  if (!message.empty()) text += ": " + message;
  if (type == "ConditionalCheckFailedException") return AlreadyExistsError(text);
  if (IsThrottling(type)) return UnavailableError(text);
  if (type == "ResourceNotFoundException") return FailedPreconditionError(text);
  if (type == "AccessDeniedException" || type == "UnrecognizedClientException" ||
      type == "InvalidSignatureException" || type == "MissingAuthenticationTokenException" ||
      type == "ExpiredTokenException" || type == "IncompleteSignatureException") {
    return FailedPreconditionError(text);
  }
  if (type == "ValidationException" || type == "SerializationException") {
    return InternalError(text);
  }
  if (http_status >= 500) return UnavailableError(text);
  return InternalError(text);
}

AttemptVerdict AfterTransportFailure(const aws::HttpOutcome& failed, bool idempotent) {
  return {.retry = failed.retry_can_help && (!failed.may_have_reached_server || idempotent),
          .maybe_applied = failed.may_have_reached_server};
}

AttemptVerdict AfterErrorResponse(int http_status, const std::string& type, bool idempotent) {
  // An answer that is not DynamoDB's may come from something between us and it, after it.
  const bool maybe_applied = http_status >= 500 || type.empty();
  return {.retry = IsThrottling(type) || (maybe_applied && idempotent),
          .maybe_applied = maybe_applied};
}

}  // namespace footfall::store::dynamodb
