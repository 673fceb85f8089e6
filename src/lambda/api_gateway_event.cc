#include "lambda/api_gateway_event.h"

#include <nlohmann/json.hpp>

namespace footfall::lambda {

using json = nlohmann::json;

namespace {

// Percent-encodes a decoded query component (API Gateway 1.0 hands over decoded values; the core
// expects a raw query string, as on the wire).
std::string EncodeQueryComponent(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~' || c == '/') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

const json* Child(const json& parent, const char* name) {
  if (!parent.is_object()) return nullptr;
  auto it = parent.find(name);
  return it == parent.end() || it->is_null() ? nullptr : &*it;
}

std::string StringAt(const json& parent, const char* name) {
  const json* child = Child(parent, name);
  return child != nullptr && child->is_string() ? child->get<std::string>() : "";
}

Status AddHeader(core::Request& request, std::string name, std::string value) {
  if (request.headers.size() >= kMaxEventHeaders) {
    return InvalidArgumentError("event has more than " + std::to_string(kMaxEventHeaders) +
                                " headers");
  }
  request.headers.push_back({std::move(name), std::move(value)});
  return OkStatus();
}

// Headers of a 1.0 event: multiValueHeaders when present (it holds every value), else headers.
// Either may be null (the API Gateway console's test calls send null).
Status ReadV1Headers(const json& event, core::Request& request) {
  if (const json* multi = Child(event, "multiValueHeaders"); multi != nullptr && multi->is_object()) {
    for (const auto& [name, values] : multi->items()) {
      if (!values.is_array()) return InvalidArgumentError("multiValueHeaders." + name + " is not a list");
      for (const json& value : values) {
        if (!value.is_string()) return InvalidArgumentError("header " + name + " is not a string");
        RETURN_IF_ERROR(AddHeader(request, name, value.get<std::string>()));
      }
    }
    return OkStatus();
  }
  if (const json* headers = Child(event, "headers"); headers != nullptr) {
    if (!headers->is_object()) return InvalidArgumentError("headers is not an object");
    for (const auto& [name, value] : headers->items()) {
      if (!value.is_string()) return InvalidArgumentError("header " + name + " is not a string");
      RETURN_IF_ERROR(AddHeader(request, name, value.get<std::string>()));
    }
  }
  return OkStatus();
}

Status ReadV1Query(const json& event, std::string& query) {
  auto append = [&](const std::string& name, const json& value) -> Status {
    if (!value.is_string()) return InvalidArgumentError("query parameter " + name + " is not a string");
    if (!query.empty()) query.push_back('&');
    query += EncodeQueryComponent(name) + "=" + EncodeQueryComponent(value.get<std::string>());
    return OkStatus();
  };
  if (const json* multi = Child(event, "multiValueQueryStringParameters");
      multi != nullptr && multi->is_object()) {
    for (const auto& [name, values] : multi->items()) {
      if (!values.is_array()) return InvalidArgumentError("query parameter " + name + " is not a list");
      for (const json& value : values) RETURN_IF_ERROR(append(name, value));
    }
    return OkStatus();
  }
  if (const json* single = Child(event, "queryStringParameters"); single != nullptr) {
    if (!single->is_object()) return InvalidArgumentError("queryStringParameters is not an object");
    for (const auto& [name, value] : single->items()) RETURN_IF_ERROR(append(name, value));
  }
  return OkStatus();
}

StatusOr<ApiGatewayRequest> ParseV1(const json& event) {
  ApiGatewayRequest out{PayloadFormat::kRestV1, {}};
  core::Request& request = out.request;
  request.method = StringAt(event, "httpMethod");
  const std::string path = StringAt(event, "path");
  if (request.method.empty() || path.empty()) {
    return InvalidArgumentError("REST API event needs httpMethod and path");
  }
  RETURN_IF_ERROR(ReadV1Headers(event, request));
  std::string query;
  RETURN_IF_ERROR(ReadV1Query(event, query));
  request.target = query.empty() ? path : path + "?" + query;
  if (const json* context = Child(event, "requestContext")) {
    if (const json* identity = Child(*context, "identity")) {
      request.peer_address = StringAt(*identity, "sourceIp");
    }
    request.request_id = StringAt(*context, "requestId");
  }
  return out;
}

StatusOr<ApiGatewayRequest> ParseV2(const json& event) {
  ApiGatewayRequest out{PayloadFormat::kHttpV2, {}};
  core::Request& request = out.request;
  const json* context = Child(event, "requestContext");
  const json* http = context != nullptr ? Child(*context, "http") : nullptr;
  if (http == nullptr) return InvalidArgumentError("HTTP API event needs requestContext.http");
  request.method = StringAt(*http, "method");
  std::string path = StringAt(event, "rawPath");
  if (request.method.empty() || path.empty()) {
    return InvalidArgumentError("HTTP API event needs requestContext.http.method and rawPath");
  }
  // On a named stage rawPath starts with "/<stage>"; routes are matched without it.
  const std::string stage = StringAt(*context, "stage");
  if (!stage.empty() && stage != "$default") {
    const std::string prefix = "/" + stage;
    if (path == prefix) {
      path = "/";
    } else if (path.starts_with(prefix + "/")) {
      path = path.substr(prefix.size());
    }
  }
  const std::string query = StringAt(event, "rawQueryString");
  request.target = query.empty() ? path : path + "?" + query;
  if (const json* headers = Child(event, "headers"); headers != nullptr) {
    if (!headers->is_object()) return InvalidArgumentError("headers is not an object");
    for (const auto& [name, value] : headers->items()) {
      if (!value.is_string()) return InvalidArgumentError("header " + name + " is not a string");
      RETURN_IF_ERROR(AddHeader(request, name, value.get<std::string>()));
    }
  }
  request.peer_address = StringAt(*http, "sourceIp");
  request.request_id = StringAt(*context, "requestId");
  return out;
}

}  // namespace

StatusOr<ApiGatewayRequest> ParseApiGatewayEvent(std::string_view event_json) {
  if (event_json.size() > kMaxEventBytes) {
    return InvalidArgumentError("event larger than " + std::to_string(kMaxEventBytes) + " bytes");
  }
  const json event = json::parse(event_json, nullptr, /*allow_exceptions=*/false);
  if (event.is_discarded()) return InvalidArgumentError("event is not valid JSON");
  if (!event.is_object()) return InvalidArgumentError("event is not a JSON object");
  if (StringAt(event, "version") == "2.0") return ParseV2(event);
  if (Child(event, "httpMethod") != nullptr) return ParseV1(event);
  return InvalidArgumentError("event is neither an API Gateway REST (1.0) nor HTTP API (2.0) event");
}

std::string FormatApiGatewayResponse(const core::Response& response) {
  json headers = json::object();
  for (const core::Header& header : response.headers) {
    auto it = headers.find(header.name);
    if (it == headers.end()) {
      headers[header.name] = header.value;
    } else {
      *it = it->get<std::string>() + ", " + header.value;
    }
  }
  json out = {{"statusCode", response.status},
              {"headers", std::move(headers)},
              {"body", response.body},
              {"isBase64Encoded", false}};
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace footfall::lambda
