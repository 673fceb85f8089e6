// The JSON bodies footfall answers with, and the one mapping from a store Status to an HTTP
// error. Used by every adapter so the contract is identical over HTTP and Lambda. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "core/http_message.h"

namespace footfall::core {

// The seed's exact message, kept so existing Cloud Resume Challenge front ends work unchanged.
inline constexpr std::string_view kCountMessage = "Visitor count updated successfully";

// 200, application/json, {"count": <count>, "message": "Visitor count updated successfully"}.
Response CountResponse(int64_t count);

// 202 {"status": "accepted"}: the answer to POST /api/event (the visit is stored, or was not a
// visit; the answer does not say which).
Response AcceptedResponse();

// `status`, application/json, {"error": "<code>", "message": "<message>"}. `code` is a stable
// snake_case identifier clients may branch on; `message` is short text for humans.
Response ErrorResponse(int status, std::string_view code, std::string_view message);

// The response for a failed store call: 503 store_unavailable with Retry-After for retryable codes
// (unavailable, deadline_exceeded, resource_exhausted), 501 not_implemented for unimplemented,
// else 500 internal_error. The status's own
// message goes to Response::internal_error (logged) and never appears in what is sent.
Response StoreFailureResponse(const Status& status);

// `text` as a JSON string literal, quotes included.
std::string JsonQuote(std::string_view text);

}  // namespace footfall::core
