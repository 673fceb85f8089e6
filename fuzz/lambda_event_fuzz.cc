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
  const std::string formatted =
      footfall::lambda::FormatApiGatewayResponse(response, parsed->format);

  rapidjson::Document document;
  document.Parse(formatted.data(), formatted.size());
  Check(!document.HasParseError() && document.IsObject());
  Check(document["statusCode"].IsInt() && document["statusCode"].GetInt() == response.status);
  const rapidjson::Value& body = document["body"];
  Check(body.IsString() &&
        std::string_view(body.GetString(), body.GetStringLength()) == response.body);
  const rapidjson::Value& headers = document["headers"];
  Check(headers.IsObject());
  const bool rest = parsed->format == footfall::lambda::PayloadFormat::kRestV1;
  const rapidjson::Value* multi = nullptr;
  if (rest) {
    Check(document.HasMember("multiValueHeaders") && document["multiValueHeaders"].IsObject());
    multi = &document["multiValueHeaders"];
  }
  // Each header value appears: in its (possibly joined) value in `headers`, or, for a repeated
  // name of a REST answer, as an element of its multiValueHeaders list.
  for (const auto& header : response.headers) {
    const rapidjson::Value name(header.name.data(),
                                static_cast<rapidjson::SizeType>(header.name.size()));
    auto it = headers.FindMember(name);
    if (it != headers.MemberEnd()) {
      Check(it->value.IsString());
      const std::string_view joined(it->value.GetString(), it->value.GetStringLength());
      Check(joined.find(header.value) != std::string_view::npos);
      continue;
    }
    Check(multi != nullptr);
    auto list = multi->FindMember(name);
    Check(list != multi->MemberEnd() && list->value.IsArray());
    bool found = false;
    for (const auto& value : list->value.GetArray()) {
      found = found || (value.IsString() &&
                        std::string_view(value.GetString(), value.GetStringLength()) ==
                            header.value);
    }
    Check(found);
  }
  return 0;
}
