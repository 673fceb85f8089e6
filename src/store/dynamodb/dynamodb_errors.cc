#include "store/dynamodb/dynamodb_errors.h"

namespace footfall::store::dynamodb {

bool IsThrottling(const std::string& type) {
  return type == "ProvisionedThroughputExceededException" || type == "ThrottlingException" ||
         type == "RequestLimitExceeded" || type == "LimitExceededException" ||
         type == "TransactionConflictException";
}

Status MapError(int http_status, const std::string& type, const std::string& message) {
  std::string text = type.empty() ? "HTTP " + std::to_string(http_status) : type;
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
  const bool maybe_applied = http_status >= 500;
  return {.retry = IsThrottling(type) || (maybe_applied && idempotent),
          .maybe_applied = maybe_applied};
}

}  // namespace footfall::store::dynamodb
