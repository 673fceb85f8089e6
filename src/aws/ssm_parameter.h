// Reads one parameter from AWS Systems Manager Parameter Store (GetParameter, decrypted), for the
// secrets footfall keeps out of its environment: the statistics token of the Lambda function.
// Blocking; meant for start-up (the Lambda init phase). Thread-safe: no shared state.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "aws/credentials_provider.h"
#include "base/status.h"

namespace footfall::aws {

// Largest value accepted: SSM's own limit for an advanced parameter (8 KB).
inline constexpr size_t kMaxParameterValueBytes = 8 * 1024;

struct SsmParameterOptions {
  std::string region;    // required
  // "" means AWS_ENDPOINT_URL_SSM, then AWS_ENDPOINT_URL, then https://ssm.<region>.amazonaws.com
  // (the caller resolves the environment; see SsmEndpointFromEnvironment).
  std::string endpoint;
  std::string ca_file;   // "" as in HttpClientOptions
  // Credentials; null means CredentialsProvider::FromEnvironment().
  std::shared_ptr<CredentialsProvider> credentials;
  // The whole read, retries included. Default 5 s (Lambda's init phase lasts at most 10 s).
  std::chrono::milliseconds timeout{5000};
};

// The endpoint SSM is called at: AWS_ENDPOINT_URL_SSM, else AWS_ENDPOINT_URL, else the regional
// endpoint (as the AWS SDKs choose it).
std::string SsmEndpointFromEnvironment(std::string_view region);

// Returns the (decrypted) value of parameter `name`. Errors: kNotFound (no such parameter, or a
// version or label that does not exist), kFailedPrecondition (access denied, KMS refused to
// decrypt), kInvalidArgument (bad name or options; a value that is empty, too large or not
// UTF-8 text), kUnavailable or kDeadlineExceeded (SSM or the network failed; retried within the
// timeout).
StatusOr<std::string> ReadSsmParameter(std::string_view name, SsmParameterOptions options);

// How an SSM answer is read: exposed for tests and the fuzzer. Never throws.
StatusOr<std::string> ParseGetParameterAnswer(int http_status, std::string_view body);

}  // namespace footfall::aws
