// Where a CredentialsProvider fetches credentials from: the Source interface and the HTTP sources
// (STS web identity, container credentials, EC2 instance metadata). Internal to the provider.
// Thread-safety: Fetch and After may be called from any thread; a source's callbacks all run on
// its own thread (each HTTP source owns an AsyncHttpClient and its thread).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "aws/credentials_provider.h"
#include "aws/http_client.h"
#include "base/status.h"

namespace footfall::aws {

class CredentialsProvider::Source {
 public:
  virtual ~Source() = default;
  // Fetches credentials; calls `done` exactly once, on the source's thread, never before Fetch
  // returns. Errors name the source.
  virtual void Fetch(std::function<void(StatusOr<ExpiringCredentials>)> done) = 0;
  // Runs `fn` on the source's thread after `delay`.
  virtual void After(std::chrono::milliseconds delay, std::function<void()> fn) = 0;
  // Fails what is in flight (its callbacks run now) and stops the thread. Called once, first.
  virtual void Shutdown() = 0;
};

// Every source's errors start with its `name` and are kUnavailable or kFailedPrecondition, as
// CredentialsProvider::Get describes; never kDeadlineExceeded (a call's timeout is the source's).

// STS AssumeRoleWithWebIdentity (EKS IRSA and any OIDC federation), unsigned, through `client`
// (whose endpoint is STS). Reads `token_file` at every fetch: it rotates.
std::unique_ptr<CredentialsProvider::Source> MakeWebIdentitySource(
    std::unique_ptr<AsyncHttpClient> client, std::string name, std::string token_file,
    std::string role_arn, std::string session_name, const CredentialsProviderOptions& options);

// Container credentials (ECS task roles, EKS Pod Identity): GET `target` through `client`, with
// an Authorization header read from `token_file` at every fetch, else `token` ("" for none).
std::unique_ptr<CredentialsProvider::Source> MakeContainerSource(
    std::unique_ptr<AsyncHttpClient> client, std::string name, std::string target,
    std::string token_file, std::string token, const CredentialsProviderOptions& options);

// EC2 instance metadata through `client`: IMDSv2, falling back to IMDSv1 where the SDKs do unless
// `v1_disabled`; each call has `timeout` and up to `attempts` attempts, `backoff` apart (doubled).
std::unique_ptr<CredentialsProvider::Source> MakeInstanceMetadataSource(
    std::unique_ptr<AsyncHttpClient> client, std::string name, bool v1_disabled,
    std::chrono::milliseconds timeout, int attempts, std::chrono::milliseconds backoff,
    size_t max_answer_bytes);

}  // namespace footfall::aws
