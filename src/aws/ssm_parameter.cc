#include "aws/ssm_parameter.h"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <future>
#include <thread>
#include <utility>

#include "aws/http_client.h"
#include "aws/sigv4.h"

namespace footfall::aws {
namespace {

using json = nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? value : "";
}

std::string TextMember(const json& object, const char* name) {
  if (!object.is_object()) return "";
  const auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

bool IsUtf8Text(std::string_view text) {
  // nlohmann validates UTF-8 when it parses; a value that came through parse() is UTF-8. What is
  // left to refuse: control characters, which no token needs.
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

}  // namespace

std::string SsmEndpointFromEnvironment(std::string_view region) {
  for (const char* name : {"AWS_ENDPOINT_URL_SSM", "AWS_ENDPOINT_URL"}) {
    std::string value = Env(name);
    if (!value.empty()) return value;
  }
  return "https://ssm." + std::string(region) + ".amazonaws.com";
}

StatusOr<std::string> ParseGetParameterAnswer(int http_status, std::string_view body) {
  const json parsed = json::parse(body, nullptr, false);
  if (http_status == 200) {
    if (!parsed.is_object()) return UnavailableError("SSM answered 200 with no JSON object");
    const auto parameter = parsed.find("Parameter");
    if (parameter == parsed.end() || !parameter->is_object()) {
      return UnavailableError("SSM's answer has no Parameter object");
    }
    const auto value = parameter->find("Value");
    if (value == parameter->end() || !value->is_string()) {
      return UnavailableError("SSM's answer has no Parameter.Value string");
    }
    const std::string& text = value->get_ref<const std::string&>();
    if (text.empty()) return InvalidArgumentError("the parameter is empty");
    if (text.size() > kMaxParameterValueBytes) {
      return InvalidArgumentError("the parameter is larger than 8 KB");
    }
    if (!IsUtf8Text(text)) return InvalidArgumentError("the parameter has control characters");
    return text;
  }
  std::string type = TextMember(parsed, "__type");
  type = type.substr(type.find('#') + 1);  // npos + 1 == 0: keep all
  std::string message = TextMember(parsed, "message");
  if (message.empty()) message = TextMember(parsed, "Message");
  message = (type.empty() ? "HTTP " + std::to_string(http_status) : type) +
            (message.empty() ? "" : ": " + message.substr(0, 300));
  if (type == "ParameterNotFound" || type == "ParameterVersionNotFound") {
    return NotFoundError(message);
  }
  if (type == "AccessDeniedException" || type.starts_with("KMS") ||
      type == "UnrecognizedClientException" || type == "InvalidSignatureException") {
    return FailedPreconditionError(message);
  }
  if (type == "ValidationException" || type == "InvalidKeyId") return InvalidArgumentError(message);
  return UnavailableError(message);
}

StatusOr<std::string> ReadSsmParameter(std::string_view name, SsmParameterOptions options) {
  if (name.empty() || name.size() > 2048) {
    return InvalidArgumentError("an SSM parameter name has 1 to 2048 characters");
  }
  if (options.region.empty()) return InvalidArgumentError("no AWS region for SSM");
  if (options.endpoint.empty()) options.endpoint = SsmEndpointFromEnvironment(options.region);
  ASSIGN_OR_RETURN(HttpEndpoint endpoint, ParseEndpointUrl(options.endpoint));
  if (!options.credentials) {
    CredentialsProviderOptions provider_options;
    provider_options.region = options.region;
    provider_options.ca_file = options.ca_file;
    ASSIGN_OR_RETURN(options.credentials,
                     CredentialsProvider::FromEnvironment(std::move(provider_options)));
  }
  HttpClientOptions client_options;
  client_options.endpoint = endpoint;
  client_options.ca_file = options.ca_file;
  client_options.max_idle_connections = 1;
  client_options.max_response_bytes = 64 * 1024;
  ASSIGN_OR_RETURN(std::unique_ptr<AsyncHttpClient> client,
                   AsyncHttpClient::Create(std::move(client_options)));

  const auto deadline = SteadyClock::now() + options.timeout;
  const std::string body = json{{"Name", name}, {"WithDecryption", true}}.dump();
  Status last = DeadlineExceededError("reading the SSM parameter timed out");
  for (int attempt = 0; attempt < 4 && SteadyClock::now() < deadline; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(100 << attempt));
    std::promise<StatusOr<Credentials>> got;
    options.credentials->Get(deadline, [&got](StatusOr<Credentials> credentials) {
      got.set_value(std::move(credentials));
    });
    StatusOr<Credentials> credentials = got.get_future().get();
    if (!credentials.ok()) return credentials.status();

    HttpMessage request;
    request.body = body;
    request.headers = {{"Content-Type", "application/x-amz-json-1.1"},
                       {"X-Amz-Target", "AmazonSSM.GetParameter"}};
    const SignableRequest signable{"POST", endpoint.HostHeader(), "/", "", request.headers,
                                   request.body};
    for (auto& header :
         SignV4(signable, *credentials, options.region, "ssm", std::chrono::system_clock::now())) {
      request.headers.push_back(std::move(header));
    }
    std::promise<HttpOutcome> answered;
    client->Send(std::move(request), deadline,
                 [&answered](HttpOutcome outcome) { answered.set_value(std::move(outcome)); });
    HttpOutcome outcome = answered.get_future().get();
    if (!outcome.status.ok()) {
      last = outcome.status;
      if (!outcome.retry_can_help) return last;
      continue;
    }
    StatusOr<std::string> value =
        ParseGetParameterAnswer(outcome.response.status, outcome.response.body);
    if (value.ok() || value.status().code() != StatusCode::kUnavailable) return value;
    last = value.status();  // throttled, a 5xx, an odd answer: read it again
  }
  return last;
}

}  // namespace footfall::aws
