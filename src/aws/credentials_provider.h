// CredentialsProvider: the AWS credentials footfall signs its requests with, found as the AWS
// SDKs' default chain finds them — environment variables, then web identity (STS
// AssumeRoleWithWebIdentity, EKS IRSA), then container credentials (ECS task roles, EKS Pod
// Identity), then EC2 instance metadata (IMDSv2) — cached and refreshed before they expire.
// Made for callers on an event loop: Get never blocks (files and HTTP are handled on the
// provider's own thread). Thread-safe: every method may be called from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "aws/credentials_answers.h"
#include "aws/sigv4.h"
#include "base/clock.h"
#include "base/status.h"

namespace footfall::aws {

// Where a provider takes its credentials from, in the order the chain tries them.
enum class CredentialsSource {
  kEnvironment,       // AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY [, AWS_SESSION_TOKEN]
  kWebIdentity,       // AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN → STS
  kContainer,         // AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or …_FULL_URI
  kInstanceMetadata,  // EC2 IMDS, unless AWS_EC2_METADATA_DISABLED=true
};

struct CredentialsProviderOptions {
  // Reads one environment variable: its value, or nullopt when it is not set. An empty value
  // counts as not set (as in the SDKs). Default (empty function): the process environment.
  std::function<std::optional<std::string>(const std::string& name)> getenv;
  // Region of the STS endpoint for web identity. Default "": AWS_REGION, then AWS_DEFAULT_REGION;
  // with neither, the global endpoint https://sts.amazonaws.com.
  std::string region;
  // The wall clock credentials' Expiration is compared with. Default null: a SystemClock. Must
  // outlive the provider.
  const Clock* clock = nullptr;
  // CA bundle for HTTPS sources (STS, an https container URI); "" as in HttpClientOptions.
  std::string ca_file;
  // Credentials that expire within this are refreshed in the background while Get keeps handing
  // them out at once. Default 5 min (the AWS SDKs' prefetch time).
  std::chrono::seconds refresh_ahead{300};
  // Credentials that expire within this are no longer handed out: Get waits for new ones. An
  // answer whose credentials already expire within it is refused (a wrong clock, a broken
  // endpoint). Default 1 min. Must be less than refresh_ahead.
  std::chrono::seconds expiry_margin{60};
  // The least time between the start of two background refreshes (after one that failed, or
  // brought credentials that are already due again). Default 10 s.
  std::chrono::seconds refresh_retry_interval{10};
  // After a fetch failed and nothing usable is cached, Gets during this time fail at once with
  // that error instead of asking the source again. Invalidate ends it. Default 1 s.
  std::chrono::milliseconds failure_hold{1000};
  // IMDS: timeout of each call and attempts per call; AWS_METADATA_SERVICE_TIMEOUT (seconds) and
  // AWS_METADATA_SERVICE_NUM_ATTEMPTS override them, as in the SDKs. Default 1 s, 2 attempts.
  std::chrono::milliseconds imds_timeout{1000};
  int imds_attempts = 2;
  // Container endpoint: timeout of each call. Default 2 s (botocore's).
  std::chrono::milliseconds container_timeout{2000};
  // STS: timeout of each call. Default 5 s.
  std::chrono::milliseconds sts_timeout{5000};
  // Container endpoint and STS: attempts per call when the answer is a transport failure, a 5xx,
  // a 429 or STS throttling. Default 3.
  int service_attempts = 3;
  // Pause before the second attempt of a call, doubled for each further one. Default 200 ms.
  std::chrono::milliseconds retry_backoff{200};
  // A fetch that has not ended after this is abandoned as failed: a guard against an answer that
  // never comes back (each call has its own timeout; this bounds the whole). Default 30 s.
  std::chrono::milliseconds fetch_timeout{30000};
  // Largest answer body accepted from any source. Default 64 KiB.
  size_t max_answer_bytes = 64 << 10;
  // Largest token file (web identity token, container authorization token) read. Default 20000
  // bytes: STS accepts no longer WebIdentityToken.
  size_t max_token_file_bytes = 20000;
};

class CredentialsProvider {
 public:
  using Deadline = std::chrono::steady_clock::time_point;

  // Picks the first source of the chain whose configuration is present, in the SDKs' order:
  // environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), web identity
  // (AWS_WEB_IDENTITY_TOKEN_FILE; needs AWS_ROLE_ARN), container
  // (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, else …_FULL_URI), then EC2 instance metadata unless
  // AWS_EC2_METADATA_DISABLED is "true". Reads the environment now and never again; contacts no
  // server and reads no file but the CA bundle of an https source (see docs/aws.md for every
  // variable honoured).
  // Errors: kInvalidArgument when the chosen source's configuration is wrong (one of the two key
  // variables without the other, a token file without a role ARN, a container URI that is
  // neither loopback http nor https, a malformed endpoint); kFailedPrecondition when no source is
  // configured (only possible with IMDS disabled).
  static StatusOr<std::shared_ptr<CredentialsProvider>> FromEnvironment(
      CredentialsProviderOptions options = {});

  // Fails every Get still waiting with kUnavailable, then stops the provider's thread.
  ~CredentialsProvider();
  CredentialsProvider(const CredentialsProvider&) = delete;
  CredentialsProvider& operator=(const CredentialsProvider&) = delete;

  // Calls `done` exactly once with credentials valid for at least `expiry_margin`:
  //  - at once, on the calling thread and before Get returns, when the cached ones are fresh (a
  //    background refresh starts when they are within `refresh_ahead` of expiring);
  //  - otherwise later, on the provider's thread, when a fetch ends (concurrent Gets share one
  //    fetch) or at `deadline` (Deadline::max(): the source's own timeouts bound the wait).
  // `done` must not block, and must not take a lock its caller holds around Get.
  // Errors: kDeadlineExceeded (`deadline` passed first); kUnavailable (source unreachable, 5xx,
  // throttled, malformed answer, provider shutting down; retrying later may help);
  // kFailedPrecondition (the source refused: a token file missing or too large, STS or the
  // container endpoint answering 4xx, no IAM role on the instance). Messages name the source and
  // what is wrong, never a token or key.
  void Get(Deadline deadline, std::function<void(StatusOr<Credentials>)> done);

  // Forgets the cached credentials: the next Get fetches new ones. What to call when AWS answers
  // ExpiredToken / ExpiredTokenException. No effect on static (environment) credentials.
  void Invalidate();
  // The same, but only if `rejected` are still the cached credentials: when many requests signed
  // with the same credentials fail together, the first call forces one refetch and the rest,
  // arriving after new credentials were cached, do nothing. At most one refetch per
  // kRejectedRefetchInterval: if credentials fetched because others were rejected are rejected
  // too, asking again at once would not help (a clock or role problem), and every request (the
  // readiness probe's included) would send one more call to the source.
  void Invalidate(const Credentials& rejected);
  static constexpr std::chrono::seconds kRejectedRefetchInterval{10};

  CredentialsSource source() const { return source_kind_; }
  // Names the source and its non-secret configuration, e.g. "web identity: role
  // arn:aws:iam::1:role/x via https://sts.eu-west-1.amazonaws.com, token file /var/run/…/token".
  // Never a key, token or credentials URI path.
  std::string Describe() const { return description_; }

  class Source;  // what each kind of source implements: credential_sources.h

 private:
  struct Waiter {
    uint64_t id;
    std::function<void(StatusOr<Credentials>)> done;
  };

  CredentialsProvider(CredentialsSource kind, std::string description,
                      const CredentialsProviderOptions& options,
                      std::optional<ExpiringCredentials> fixed, std::unique_ptr<Source> source);
  uint64_t BeginFetchLocked();  // requires mutex_; marks a fetch running, returns its generation
  void StartFetch(uint64_t generation);
  void OnFetched(uint64_t generation, StatusOr<ExpiringCredentials> result);
  void OnWaiterDeadline(uint64_t waiter_id);

  const CredentialsSource source_kind_;
  const std::string description_;
  const Clock* const clock_;
  const std::chrono::seconds refresh_ahead_;
  const std::chrono::seconds expiry_margin_;
  const std::chrono::seconds refresh_retry_interval_;
  const std::chrono::milliseconds failure_hold_;
  const std::chrono::milliseconds fetch_timeout_;

  std::mutex mutex_;
  std::optional<ExpiringCredentials> cached_;  // guarded by mutex_
  bool invalidated_ = false;                   // guarded by mutex_
  bool fetching_ = false;                      // guarded by mutex_
  uint64_t fetch_generation_ = 0;              // guarded by mutex_; the fetch running or last run
  bool closing_ = false;                       // guarded by mutex_
  std::vector<Waiter> waiters_;                // guarded by mutex_
  uint64_t next_waiter_id_ = 0;                // guarded by mutex_
  TimePoint next_background_refresh_{};        // guarded by mutex_
  std::optional<TimePoint> last_rejected_at_;  // guarded by mutex_; Invalidate(rejected) acted
  Status last_failure_;                        // guarded by mutex_
  TimePoint last_failure_at_{};                // guarded by mutex_

  // Declared last: destroyed first, while everything its callbacks touch is still alive.
  std::unique_ptr<Source> source_;
};

}  // namespace footfall::aws
