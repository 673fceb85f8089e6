// What a failed DynamoDB call means: footfall's error code for it, and whether trying the same
// call again can help. Pure functions of the failure; thread-safe.
#pragma once

#include <string>

#include "aws/http_client.h"
#include "base/status.h"

namespace footfall::store::dynamodb {

// DynamoDB error types (the part of `__type` after '#') that mean "rejected, not applied, try
// again later".
bool IsThrottling(const std::string& type);
// DynamoDB error types that mean "these temporary credentials have expired".
bool IsExpiredToken(const std::string& type);

// An error response as a Status with the type and message in its text:
// ConditionalCheckFailedException → kAlreadyExists; throttling → kUnavailable; a missing table
// and credential errors → kFailedPrecondition; validation → kInternal; other 5xx → kUnavailable;
// an answer without a type (`type` "": not DynamoDB's — an HTML error page, a body that is not a
// JSON object, a `__type` that is not a string) → kUnavailable; any other type → kInternal.
Status MapError(int http_status, const std::string& type, const std::string& message);

// Whether a failed attempt is worth repeating, and whether it may have been applied (so a repeat
// of a non-idempotent call could apply it twice).
struct AttemptVerdict {
  bool retry = false;
  bool maybe_applied = false;
};

// An exchange that got no HTTP response (`failed.status` not ok): a request never sent is
// repeated unless the HTTP client says a retry cannot help (a refused TLS handshake); one that
// may have reached the server only when the call is `idempotent`.
AttemptVerdict AfterTransportFailure(const aws::HttpOutcome& failed, bool idempotent);

// An HTTP error response of DynamoDB error `type` ("" when the body had none). Throttling is
// repeated always (nothing was applied); a 5xx or an answer without a type may have been applied
// and is repeated only when the call is `idempotent`; any other error is final.
AttemptVerdict AfterErrorResponse(int http_status, const std::string& type, bool idempotent);

}  // namespace footfall::store::dynamodb
