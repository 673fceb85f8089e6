// libFuzzer target: arbitrary bytes as an API Gateway event (lambda::ParseApiGatewayEvent). When
// the event parses, a response echoing the request's untrusted bytes (headers, body, target) goes
// through FormatApiGatewayResponse, whose output must be a JSON object that gives back the status,
// the body and every header value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <rapidjson/document.h>

#include "lambda/api_gateway_event.h"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using footfall::lambda::ParseApiGatewayEvent;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto parsed = ParseApiGatewayEvent(input);
  if (!parsed.ok()) {
    Check(!parsed.status().message().empty());
    return 0;
  }
  const footfall::core::Request& request = parsed->request;
  Check(!request.method.empty() && !request.target.empty());
  Check(request.headers.size() <= footfall::lambda::kMaxEventHeaders);

  footfall::core::Response response;
  response.status = 200 + static_cast<int>(size % 400);
  for (const auto& header : request.headers) response.AddHeader(header.name, header.value);
  response.AddHeader("X-Target", request.target);
  response.body = request.body;
  const std::string formatted = footfall::lambda::FormatApiGatewayResponse(response);

  rapidjson::Document document;
  document.Parse(formatted.data(), formatted.size());
  Check(!document.HasParseError() && document.IsObject());
  Check(document["statusCode"].IsInt() && document["statusCode"].GetInt() == response.status);
  const rapidjson::Value& body = document["body"];
  Check(body.IsString() &&
        std::string_view(body.GetString(), body.GetStringLength()) == response.body);
  const rapidjson::Value& headers = document["headers"];
  Check(headers.IsObject());
  // Each header value appears in its (possibly joined) output value.
  for (const auto& header : response.headers) {
    auto it = headers.FindMember(
        rapidjson::Value(header.name.data(), static_cast<rapidjson::SizeType>(header.name.size())));
    Check(it != headers.MemberEnd() && it->value.IsString());
    const std::string_view joined(it->value.GetString(), it->value.GetStringLength());
    Check(joined.find(header.value) != std::string_view::npos);
  }
  return 0;
}
