#include "lambda/api_gateway_event.h"

#include "base/base64.h"

#include <algorithm>
#include <vector>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace footfall::lambda {

// RapidJSON, not nlohmann-json, on this path: parsing the event was half of a warm invocation's
// CPU with nlohmann (callgrind), and an event is parsed on every invocation.
using Value = rapidjson::Value;

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

std::string ToString(const Value& value) {
  return std::string(value.GetString(), value.GetStringLength());
}

// The member `name` of `parent` unless absent or null.
const Value* Child(const Value& parent, const char* name) {
  if (!parent.IsObject()) return nullptr;
  auto it = parent.FindMember(name);
  return it == parent.MemberEnd() || it->value.IsNull() ? nullptr : &it->value;
}

std::string StringAt(const Value& parent, const char* name) {
  const Value* child = Child(parent, name);
  return child != nullptr && child->IsString() ? ToString(*child) : "";
}

Status AddHeader(core::Request& request, const Value& name, const Value& value) {
  if (!value.IsString()) return InvalidArgumentError("header " + ToString(name) + " is not a string");
  if (request.headers.size() >= kMaxEventHeaders) {
    return InvalidArgumentError("event has more than " + std::to_string(kMaxEventHeaders) +
                                " headers");
  }
  request.headers.push_back({ToString(name), ToString(value)});
  return OkStatus();
}

Status AddHeaders(const Value& headers, core::Request& request) {
  if (!headers.IsObject()) return InvalidArgumentError("headers is not an object");
  for (const auto& member : headers.GetObject()) {
    RETURN_IF_ERROR(AddHeader(request, member.name, member.value));
  }
  return OkStatus();
}

// Headers of a 1.0 event: multiValueHeaders when present (it holds every value), else headers.
// Either may be null (the API Gateway console's test calls send null).
Status ReadV1Headers(const Value& event, core::Request& request) {
  if (const Value* multi = Child(event, "multiValueHeaders"); multi != nullptr && multi->IsObject()) {
    for (const auto& member : multi->GetObject()) {
      if (!member.value.IsArray()) {
        return InvalidArgumentError("multiValueHeaders." + ToString(member.name) + " is not a list");
      }
      for (const Value& value : member.value.GetArray()) {
        RETURN_IF_ERROR(AddHeader(request, member.name, value));
      }
    }
    return OkStatus();
  }
  if (const Value* headers = Child(event, "headers"); headers != nullptr) {
    return AddHeaders(*headers, request);
  }
  return OkStatus();
}

Status ReadV1Query(const Value& event, std::string& query) {
  auto append = [&](const Value& name, const Value& value) -> Status {
    if (!value.IsString()) {
      return InvalidArgumentError("query parameter " + ToString(name) + " is not a string");
    }
    if (!query.empty()) query.push_back('&');
    query += EncodeQueryComponent(ToString(name)) + "=" + EncodeQueryComponent(ToString(value));
    return OkStatus();
  };
  if (const Value* multi = Child(event, "multiValueQueryStringParameters");
      multi != nullptr && multi->IsObject()) {
    for (const auto& member : multi->GetObject()) {
      if (!member.value.IsArray()) {
        return InvalidArgumentError("query parameter " + ToString(member.name) + " is not a list");
      }
      for (const Value& value : member.value.GetArray()) {
        RETURN_IF_ERROR(append(member.name, value));
      }
    }
    return OkStatus();
  }
  if (const Value* single = Child(event, "queryStringParameters"); single != nullptr) {
    if (!single->IsObject()) return InvalidArgumentError("queryStringParameters is not an object");
    for (const auto& member : single->GetObject()) RETURN_IF_ERROR(append(member.name, member.value));
  }
  return OkStatus();
}

// The request body: `body`, base64-decoded when isBase64Encoded is true (API Gateway does that
// for content types it treats as binary).
Status ReadBody(const Value& event, core::Request& request) {
  const Value* body = Child(event, "body");
  if (body == nullptr || body->IsNull()) return OkStatus();
  if (!body->IsString()) return InvalidArgumentError("body is not a string");
  request.body = ToString(*body);
  const Value* encoded = Child(event, "isBase64Encoded");
  if (encoded == nullptr || !encoded->IsBool() || !encoded->GetBool()) return OkStatus();
  std::optional<std::string> decoded = Base64Decode(request.body);
  if (!decoded) return InvalidArgumentError("body is not valid base64");
  request.body = *std::move(decoded);
  return OkStatus();
}

StatusOr<ApiGatewayRequest> ParseV1(const Value& event) {
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
  RETURN_IF_ERROR(ReadBody(event, request));
  if (const Value* context = Child(event, "requestContext")) {
    if (const Value* identity = Child(*context, "identity")) {
      request.peer_address = StringAt(*identity, "sourceIp");
    }
    request.request_id = StringAt(*context, "requestId");
  }
  return out;
}

StatusOr<ApiGatewayRequest> ParseV2(const Value& event) {
  ApiGatewayRequest out{PayloadFormat::kHttpV2, {}};
  core::Request& request = out.request;
  const Value* context = Child(event, "requestContext");
  const Value* http = context != nullptr ? Child(*context, "http") : nullptr;
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
  if (const Value* headers = Child(event, "headers"); headers != nullptr) {
    RETURN_IF_ERROR(AddHeaders(*headers, request));
  }
  RETURN_IF_ERROR(ReadBody(event, request));
  request.peer_address = StringAt(*http, "sourceIp");
  request.request_id = StringAt(*context, "requestId");
  return out;
}

}  // namespace

StatusOr<ApiGatewayRequest> ParseApiGatewayEvent(std::string_view event_json) {
  if (event_json.size() > kMaxEventBytes) {
    return InvalidArgumentError("event larger than " + std::to_string(kMaxEventBytes) + " bytes");
  }
  rapidjson::Document event;
  // Full UTF-8 validation: header values go on to the core, which expects well-formed text.
  event.Parse<rapidjson::kParseValidateEncodingFlag>(event_json.data(), event_json.size());
  if (event.HasParseError()) return InvalidArgumentError("event is not valid JSON");
  if (!event.IsObject()) return InvalidArgumentError("event is not a JSON object");
  if (StringAt(event, "version") == "2.0") return ParseV2(event);
  if (Child(event, "httpMethod") != nullptr) return ParseV1(event);
  return InvalidArgumentError("event is neither an API Gateway REST (1.0) nor HTTP API (2.0) event");
}

std::string FormatApiGatewayResponse(const core::Response& response, PayloadFormat format) {
  // Repeated header names: REST (1.0) sends each value as its own header line when they are in
  // multiValueHeaders (and only there: API Gateway merges both maps); HTTP APIs (2.0) have no such
  // map, so the values are joined with ", ". The order of first appearance is kept.
  std::vector<std::pair<std::string_view, std::vector<std::string_view>>> headers;
  for (const core::Header& header : response.headers) {
    auto it = std::find_if(headers.begin(), headers.end(),
                           [&](const auto& h) { return h.first == header.name; });
    if (it == headers.end()) {
      headers.push_back({header.name, {header.value}});
    } else {
      it->second.push_back(header.value);
    }
  }
  const bool multi_value = format == PayloadFormat::kRestV1;
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  auto write = [&writer](std::string_view text) {
    writer.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
  };
  writer.StartObject();
  writer.Key("statusCode");
  writer.Int(response.status);
  writer.Key("headers");
  writer.StartObject();
  for (const auto& [name, values] : headers) {
    if (multi_value && values.size() > 1) continue;
    std::string joined;
    for (std::string_view value : values) {
      joined += (joined.empty() ? "" : ", ") + std::string(value);
    }
    writer.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
    write(joined);
  }
  writer.EndObject();
  if (multi_value) {
    writer.Key("multiValueHeaders");
    writer.StartObject();
    for (const auto& [name, values] : headers) {
      if (values.size() < 2) continue;
      writer.Key(name.data(), static_cast<rapidjson::SizeType>(name.size()));
      writer.StartArray();
      for (std::string_view value : values) write(value);
      writer.EndArray();
    }
    writer.EndObject();
  }
  writer.Key("body");
  write(response.body);
  writer.Key("isBase64Encoded");
  writer.Bool(false);
  writer.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace footfall::lambda
