#include "core/responses.h"

#include <cstdio>

namespace footfall::core {

std::string JsonQuote(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out.push_back('"');
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buffer[8];
          std::snprintf(buffer, sizeof buffer, "\\u%04x", c);
          out += buffer;
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
  return out;
}

Response CountResponse(int64_t count) {
  Response response;
  response.status = 200;
  response.AddHeader("Content-Type", "application/json");
  // Every answer is a fresh count (and a /count answer records a visit): never cached.
  response.AddHeader("Cache-Control", "no-store");
  response.body = "{\"count\": " + std::to_string(count) + ", \"message\": " +
                  JsonQuote(kCountMessage) + "}";
  return response;
}

Response AcceptedResponse() {
  Response response;
  response.status = 202;
  response.AddHeader("Content-Type", "application/json");
  response.AddHeader("Cache-Control", "no-store");
  response.body = "{\"status\": \"accepted\"}";
  return response;
}

Response ErrorResponse(int status, std::string_view code, std::string_view message) {
  Response response;
  response.status = status;
  response.AddHeader("Content-Type", "application/json");
  response.body = "{\"error\": " + JsonQuote(code) + ", \"message\": " + JsonQuote(message) + "}";
  return response;
}

Response StoreFailureResponse(const Status& status) {
  Response response;
  switch (status.code()) {
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded:
    case StatusCode::kResourceExhausted:
      response =
          ErrorResponse(503, "store_unavailable", "The counter store is unavailable; retry later.");
      response.AddHeader("Retry-After", "1");
      break;
    case StatusCode::kUnimplemented:
      response = ErrorResponse(501, "not_implemented", "This store does not support that yet.");
      break;
    default:
      response = ErrorResponse(500, "internal_error", "The server failed to handle the request.");
  }
  response.used_store = true;
  response.internal_error = status.ToString();
  return response;
}

}  // namespace footfall::core
