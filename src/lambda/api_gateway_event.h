// Translation between API Gateway Lambda-proxy events and footfall's core Request/Response:
// REST APIs (payload format 1.0) and HTTP APIs (payload format 2.0), detected from the event.
// Pure functions; thread-safe. Events are untrusted input: every field is type-checked and the
// sizes are bounded.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "core/http_message.h"

namespace footfall::lambda {

enum class PayloadFormat { kRestV1, kHttpV2 };

// Largest event accepted: Lambda's own limit for synchronous invocations (6 MB).
inline constexpr size_t kMaxEventBytes = 6 * 1024 * 1024;
// Most headers taken from one event; API Gateway itself caps request headers at 10 KB total.
inline constexpr size_t kMaxEventHeaders = 100;

struct ApiGatewayRequest {
  PayloadFormat format;
  core::Request request;  // peer_address is requestContext's sourceIp ("" when absent)
};

// Parses `event_json`. Errors: kInvalidArgument when it is not JSON, too large, or not an API
// Gateway proxy event of either format (the message says which field is wrong).
StatusOr<ApiGatewayRequest> ParseApiGatewayEvent(std::string_view event_json);

// The JSON response API Gateway expects for `format`: statusCode, headers, body, isBase64Encoded
// (false: footfall's bodies are text); 2.0 would add `cookies`, which footfall never sets. A
// header name that repeats (WWW-Authenticate's two challenges) goes in 1.0's multiValueHeaders,
// so that each value is a header line of its own as from `serve`; 2.0 has no such map, and its
// values are joined with ", ".
std::string FormatApiGatewayResponse(const core::Response& response, PayloadFormat format);

}  // namespace footfall::lambda
