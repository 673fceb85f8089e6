#include "aws/credentials_provider.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <system_error>
#include <tuple>
#include <utility>

#include "aws/credential_sources.h"
#include "aws/credentials_internal.h"
#include "aws/http_client.h"

namespace footfall::aws {

using std::chrono::milliseconds;

namespace {

const SystemClock kSystemClock;

std::string EndpointUrl(const HttpEndpoint& endpoint) {
  return std::string(endpoint.tls ? "https://" : "http://") + endpoint.HostHeader();
}

bool SameCredentials(const Credentials& a, const Credentials& b) {
  return a.access_key_id == b.access_key_id && a.secret_access_key == b.secret_access_key &&
         a.session_token == b.session_token;
}

// --- Configuration ------------------------------------------------------------------------------

// The environment as the SDKs read it: an empty value is no value.
class Environment {
 public:
  explicit Environment(const CredentialsProviderOptions& options) : getenv_(options.getenv) {}

  std::string Get(const std::string& name) const {
    if (getenv_) return getenv_(name).value_or("");
    const char* value = std::getenv(name.c_str());
    return value != nullptr ? value : "";
  }
  bool IsTrue(const std::string& name) const {
    std::string value = Get(name);
    std::transform(value.begin(), value.end(), value.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    return value == "true";
  }

 private:
  std::function<std::optional<std::string>(const std::string&)> getenv_;
};

StatusOr<std::unique_ptr<AsyncHttpClient>> ClientFor(const HttpEndpoint& endpoint,
                                                     const CredentialsProviderOptions& options,
                                                     milliseconds timeout) {
  HttpClientOptions client_options;
  client_options.endpoint = endpoint;
  client_options.ca_file = options.ca_file;
  client_options.max_idle_connections = 2;
  client_options.max_response_bytes = options.max_answer_bytes;
  client_options.default_timeout = timeout;
  return AsyncHttpClient::Create(std::move(client_options));
}

bool IsLoopbackLiteral(const std::string& host) {
  in_addr v4{};
  if (::inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  return ::inet_pton(AF_INET6, host.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

// Splits an absolute http(s) URL into its endpoint and request target (path and query).
StatusOr<std::pair<HttpEndpoint, std::string>> SplitUrl(std::string_view url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    return InvalidArgumentError("'" + Printable(url) + "' is not an http(s) URL");
  }
  std::string_view rest = url.substr(scheme_end + 3);
  rest = rest.substr(0, rest.find('#'));
  const size_t path_at = std::min(rest.find('/'), rest.find('?'));
  std::string target = path_at == std::string_view::npos ? "/" : std::string(rest.substr(path_at));
  if (target.front() == '?') target.insert(0, "/");
  if (!IsVisibleAscii(target)) {
    return InvalidArgumentError("'" + Printable(url) +
                                "' has a path with spaces or control "
                                "characters");
  }
  ASSIGN_OR_RETURN(HttpEndpoint endpoint,
                   ParseEndpointUrl(std::string(url.substr(0, scheme_end + 3)) +
                                    std::string(rest.substr(0, path_at))));
  return std::make_pair(std::move(endpoint), std::move(target));
}

StatusOr<milliseconds> ParseSeconds(const std::string& text, const std::string& variable) {
  double seconds = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (ec != std::errc() || end != text.data() + text.size() || !(seconds > 0) || seconds > 3600) {
    return InvalidArgumentError(variable + " '" + Printable(text, 40) +
                                "' is not a number of seconds in (0, 3600]");
  }
  return milliseconds(static_cast<int64_t>(seconds * 1000 + 0.5));
}

bool IsValidSessionName(std::string_view name) {
  return name.size() >= 2 && name.size() <= 64 &&
         std::all_of(name.begin(), name.end(), [](unsigned char c) {
           return std::isalnum(c) || std::string_view("+=,.@_-").find(c) != std::string_view::npos;
         });
}

}  // namespace

// --- The provider -------------------------------------------------------------------------------

StatusOr<std::shared_ptr<CredentialsProvider>> CredentialsProvider::FromEnvironment(
    CredentialsProviderOptions options) {
  if (options.expiry_margin >= options.refresh_ahead) {
    return InvalidArgumentError("expiry_margin must be less than refresh_ahead");
  }
  const Environment env(options);
  const auto make = [&](CredentialsSource kind, std::string description,
                        std::optional<ExpiringCredentials> fixed, std::unique_ptr<Source> source) {
    return std::shared_ptr<CredentialsProvider>(new CredentialsProvider(
        kind, std::move(description), options, std::move(fixed), std::move(source)));
  };

  // 1. Environment.
  const std::string access_key_id = env.Get("AWS_ACCESS_KEY_ID");
  const std::string secret = env.Get("AWS_SECRET_ACCESS_KEY");
  if (!access_key_id.empty() || !secret.empty()) {
    if (access_key_id.empty() || secret.empty()) {
      return InvalidArgumentError(
          std::string(access_key_id.empty() ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID") +
          " is set but " + (access_key_id.empty() ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY") +
          " is not");
    }
    ExpiringCredentials fixed;
    fixed.credentials.access_key_id = access_key_id;
    fixed.credentials.secret_access_key = secret;
    fixed.credentials.session_token = env.Get("AWS_SESSION_TOKEN");
    if (fixed.credentials.session_token.empty()) {
      fixed.credentials.session_token = env.Get("AWS_SECURITY_TOKEN");  // botocore's old name
    }
    for (const auto& [name, value] :
         {std::pair{"AWS_ACCESS_KEY_ID", &fixed.credentials.access_key_id},
          std::pair{"AWS_SECRET_ACCESS_KEY", &fixed.credentials.secret_access_key},
          std::pair{"AWS_SESSION_TOKEN", &fixed.credentials.session_token}}) {
      if (!IsVisibleAscii(*value)) {
        return InvalidArgumentError(std::string(name) + " contains spaces or control characters");
      }
    }
    std::string description = "environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY";
    if (!fixed.credentials.session_token.empty()) description += ", session token";
    return make(CredentialsSource::kEnvironment, std::move(description), std::move(fixed), nullptr);
  }

  // 2. Web identity.
  if (const std::string token_file = env.Get("AWS_WEB_IDENTITY_TOKEN_FILE"); !token_file.empty()) {
    const std::string role_arn = env.Get("AWS_ROLE_ARN");
    if (role_arn.empty()) {
      return InvalidArgumentError("AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not");
    }
    if (role_arn.size() > 2048 || !IsVisibleAscii(role_arn) || !role_arn.starts_with("arn:")) {
      return InvalidArgumentError("AWS_ROLE_ARN '" + Printable(role_arn) + "' is not an ARN");
    }
    std::string session_name = env.Get("AWS_ROLE_SESSION_NAME");
    if (session_name.empty()) {
      const Clock* clock = options.clock != nullptr ? options.clock : &kSystemClock;
      session_name = "footfall-" + std::to_string(UnixMillis(clock->Now()));
    } else if (!IsValidSessionName(session_name)) {
      return InvalidArgumentError("AWS_ROLE_SESSION_NAME '" + Printable(session_name) +
                                  "' is not 2 to 64 characters of [A-Za-z0-9+=,.@_-]");
    }
    std::string url;
    if (!env.IsTrue("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")) {
      url = env.Get("AWS_ENDPOINT_URL_STS");
      if (url.empty()) url = env.Get("AWS_ENDPOINT_URL");
    }
    if (url.empty()) {
      std::string region = options.region;
      if (region.empty()) region = env.Get("AWS_REGION");
      if (region.empty()) region = env.Get("AWS_DEFAULT_REGION");
      if (region.empty()) {
        url = "https://sts.amazonaws.com";
      } else {
        if (region.size() > 64 || !std::all_of(region.begin(), region.end(), [](unsigned char c) {
              return std::islower(c) || std::isdigit(c) || c == '-';
            })) {
          return InvalidArgumentError("region '" + Printable(region) + "' is not a region name");
        }
        url = "https://sts." + region +
              (region.starts_with("cn-") ? ".amazonaws.com.cn" : ".amazonaws.com");
      }
    }
    auto endpoint = ParseEndpointUrl(url);
    if (!endpoint.ok()) return WithPrefix(endpoint.status(), "STS endpoint");
    std::string name = "web identity (STS at " + EndpointUrl(*endpoint) + ")";
    ASSIGN_OR_RETURN(auto client, ClientFor(*endpoint, options, options.sts_timeout));
    std::string description = "web identity: role " + role_arn + " via " + EndpointUrl(*endpoint) +
                              ", token file " + token_file;
    return make(CredentialsSource::kWebIdentity, std::move(description), std::nullopt,
                MakeWebIdentitySource(std::move(client), std::move(name), token_file, role_arn,
                                      session_name, options));
  }

  // 3. Container: the relative URI (ECS) wins over the full one, as in the SDKs.
  const std::string relative_uri = env.Get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
  const std::string full_uri = env.Get("AWS_CONTAINER_CREDENTIALS_FULL_URI");
  if (!relative_uri.empty() || !full_uri.empty()) {
    HttpEndpoint endpoint;
    std::string target;
    if (!relative_uri.empty()) {
      if (!relative_uri.starts_with('/') || !IsVisibleAscii(relative_uri)) {
        return InvalidArgumentError(
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is not a path starting with '/'");
      }
      endpoint = *ParseEndpointUrl("http://169.254.170.2");
      target = relative_uri;
    } else {
      auto split = SplitUrl(full_uri);
      if (!split.ok()) return WithPrefix(split.status(), "AWS_CONTAINER_CREDENTIALS_FULL_URI");
      std::tie(endpoint, target) = std::move(*split);
      // The SDKs' rule: plain HTTP only to this host (loopback) or the ECS/EKS agents' addresses.
      static constexpr std::string_view kAllowedHttpHosts[] = {"169.254.170.2", "169.254.170.23",
                                                               "fd00:ec2::23", "localhost"};
      const bool allowed = endpoint.tls || IsLoopbackLiteral(endpoint.host) ||
                           std::find(std::begin(kAllowedHttpHosts), std::end(kAllowedHttpHosts),
                                     endpoint.host) != std::end(kAllowedHttpHosts);
      if (!allowed) {
        return InvalidArgumentError(
            "AWS_CONTAINER_CREDENTIALS_FULL_URI: plain http is allowed only to a loopback address, "
            "localhost, 169.254.170.2, 169.254.170.23 or fd00:ec2::23, not '" +
            Printable(endpoint.host) + "'; use https");
      }
    }
    const std::string token_file = env.Get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    const std::string token = env.Get("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    if (token_file.empty() && !token.empty() && !IsVisibleAscii(Trim(token))) {
      return InvalidArgumentError(
          "AWS_CONTAINER_AUTHORIZATION_TOKEN is not a single line of visible ASCII");
    }
    ASSIGN_OR_RETURN(auto client, ClientFor(endpoint, options, options.container_timeout));
    const std::string url = EndpointUrl(endpoint);
    std::string description = "container credentials: " + url;
    if (!token_file.empty()) {
      description += ", authorization token file " + token_file;
    } else if (!token.empty()) {
      description += ", authorization token from AWS_CONTAINER_AUTHORIZATION_TOKEN";
    }
    return make(
        CredentialsSource::kContainer, std::move(description), std::nullopt,
        MakeContainerSource(std::move(client), "container credentials (" + url + ")",
                            std::move(target), token_file, std::string(Trim(token)), options));
  }

  // 4. EC2 instance metadata.
  if (env.IsTrue("AWS_EC2_METADATA_DISABLED")) {
    return FailedPreconditionError(
        "no AWS credentials configured: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or "
        "AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN, or AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / "
        "_FULL_URI (instance metadata is disabled by AWS_EC2_METADATA_DISABLED)");
  }
  std::string url = env.Get("AWS_EC2_METADATA_SERVICE_ENDPOINT");
  if (url.empty()) {
    std::string mode = env.Get("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
    std::transform(mode.begin(), mode.end(), mode.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    if (!mode.empty() && mode != "ipv4" && mode != "ipv6") {
      return InvalidArgumentError(
          "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE is neither IPv4 nor IPv6");
    }
    url = mode == "ipv6" ? "http://[fd00:ec2::254]" : "http://169.254.169.254";
  }
  auto endpoint = ParseEndpointUrl(url);
  if (!endpoint.ok()) return WithPrefix(endpoint.status(), "AWS_EC2_METADATA_SERVICE_ENDPOINT");
  milliseconds timeout = options.imds_timeout;
  if (const std::string text = env.Get("AWS_METADATA_SERVICE_TIMEOUT"); !text.empty()) {
    ASSIGN_OR_RETURN(timeout, ParseSeconds(text, "AWS_METADATA_SERVICE_TIMEOUT"));
  }
  int attempts = options.imds_attempts;
  if (const std::string text = env.Get("AWS_METADATA_SERVICE_NUM_ATTEMPTS"); !text.empty()) {
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), attempts);
    if (ec != std::errc() || end != text.data() + text.size() || attempts < 1 || attempts > 10) {
      return InvalidArgumentError("AWS_METADATA_SERVICE_NUM_ATTEMPTS '" + Printable(text, 40) +
                                  "' is not a number from 1 to 10");
    }
  }
  const bool v1_disabled = env.IsTrue("AWS_EC2_METADATA_V1_DISABLED");
  ASSIGN_OR_RETURN(auto client, ClientFor(*endpoint, options, timeout));
  const std::string endpoint_url = EndpointUrl(*endpoint);
  return make(CredentialsSource::kInstanceMetadata,
              "EC2 instance metadata: " + endpoint_url +
                  (v1_disabled ? " (IMDSv2 only)" : " (IMDSv2, IMDSv1 fallback)"),
              std::nullopt,
              MakeInstanceMetadataSource(
                  std::move(client), "EC2 instance metadata (" + endpoint_url + ")", v1_disabled,
                  timeout, attempts, options.retry_backoff, options.max_answer_bytes));
}

CredentialsProvider::CredentialsProvider(CredentialsSource kind, std::string description,
                                         const CredentialsProviderOptions& options,
                                         std::optional<ExpiringCredentials> fixed,
                                         std::unique_ptr<Source> source)
    : source_kind_(kind),
      description_(std::move(description)),
      clock_(options.clock != nullptr ? options.clock : &kSystemClock),
      refresh_ahead_(options.refresh_ahead),
      expiry_margin_(options.expiry_margin),
      refresh_retry_interval_(options.refresh_retry_interval),
      failure_hold_(options.failure_hold),
      fetch_timeout_(options.fetch_timeout),
      cached_(std::move(fixed)),
      source_(std::move(source)) {}

CredentialsProvider::~CredentialsProvider() {
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
  }
  // Runs the callbacks of what is in flight (a fetch fails, waiters hear kUnavailable) on the
  // source's thread, then joins it; `this` is whole until then.
  if (source_) source_->Shutdown();
  std::vector<Waiter> left;
  {
    std::lock_guard lock(mutex_);
    left.swap(waiters_);
  }
  for (Waiter& waiter : left) {
    waiter.done(UnavailableError(description_ + ": the credentials provider is shutting down"));
  }
}

void CredentialsProvider::Get(Deadline deadline, std::function<void(StatusOr<Credentials>)> done) {
  std::unique_lock lock(mutex_);
  if (closing_) {
    lock.unlock();
    done(UnavailableError(description_ + ": the credentials provider is shutting down"));
    return;
  }
  const TimePoint now = clock_->Now();
  if (cached_ && !invalidated_ && now < cached_->expiration - expiry_margin_) {
    Credentials credentials = cached_->credentials;
    const bool refresh = source_ != nullptr && !fetching_ && now >= next_background_refresh_ &&
                         now >= cached_->expiration - refresh_ahead_;
    uint64_t generation = 0;
    if (refresh) {
      generation = BeginFetchLocked();
      next_background_refresh_ = now + refresh_retry_interval_;
    }
    lock.unlock();
    if (refresh) StartFetch(generation);
    done(std::move(credentials));
    return;
  }
  // Nothing usable: wait for a fetch (static credentials never get here: they never expire).
  bool start = false;
  uint64_t generation = 0;
  if (!fetching_) {
    if (!last_failure_.ok() && now < last_failure_at_ + failure_hold_) {
      Status failure = last_failure_;
      lock.unlock();
      done(std::move(failure));
      return;
    }
    generation = BeginFetchLocked();
    start = true;
  }
  const auto steady_now = std::chrono::steady_clock::now();
  if (steady_now >= deadline) {
    lock.unlock();
    if (start) StartFetch(generation);
    done(DeadlineExceededError(description_ + ": the deadline passed before credentials were "
                                              "fetched"));
    return;
  }
  const uint64_t id = next_waiter_id_++;
  waiters_.push_back(Waiter{id, std::move(done)});
  lock.unlock();
  if (start) StartFetch(generation);
  if (deadline != Deadline::max()) {
    const auto wait = std::chrono::ceil<milliseconds>(deadline - steady_now);
    source_->After(wait, [this, id] { OnWaiterDeadline(id); });
  }
}

void CredentialsProvider::Invalidate() {
  std::lock_guard lock(mutex_);
  if (source_ == nullptr) return;
  invalidated_ = true;
  last_failure_ = OkStatus();
}

void CredentialsProvider::Invalidate(const Credentials& rejected) {
  std::lock_guard lock(mutex_);
  if (source_ == nullptr || !cached_ || !SameCredentials(cached_->credentials, rejected)) return;
  const TimePoint now = clock_->Now();
  if (last_rejected_at_ && now - *last_rejected_at_ < kRejectedRefetchInterval) return;
  last_rejected_at_ = now;
  invalidated_ = true;
  last_failure_ = OkStatus();
}

uint64_t CredentialsProvider::BeginFetchLocked() {
  // In the same critical section as fetching_: a late answer or watchdog of an earlier fetch must
  // never be taken for this one.
  fetching_ = true;
  return ++fetch_generation_;
}

void CredentialsProvider::StartFetch(uint64_t generation) {
  source_->Fetch([this, generation](StatusOr<ExpiringCredentials> result) {
    OnFetched(generation, std::move(result));
  });
  // Every call has a timeout, but an answer can still be lost (an exception escaping a handler
  // on the HTTP thread drops its exchange): without this, fetching_ would stay true for good.
  source_->After(fetch_timeout_, [this, generation] {
    OnFetched(generation,
              UnavailableError(description_ + ": no answer within " +
                               std::to_string(fetch_timeout_.count()) + " ms; fetch abandoned"));
  });
}

void CredentialsProvider::OnFetched(uint64_t generation, StatusOr<ExpiringCredentials> result) {
  std::unique_lock lock(mutex_);
  if (!fetching_ || generation != fetch_generation_) return;  // the other of answer and watchdog
  fetching_ = false;
  const TimePoint now = clock_->Now();
  if (result.ok() && result->expiration <= now + expiry_margin_) {
    result = UnavailableError(description_ + ": the credentials fetched expire at " +
                              std::to_string(UnixMillis(result->expiration) / 1000) +
                              " (Unix time), within " + std::to_string(expiry_margin_.count()) +
                              " s of this host's clock (is the clock right?)");
  }
  // Bounds background refreshes whatever the outcome: a failing source, or one that hands out
  // credentials already due for refresh, is asked at most once per interval.
  next_background_refresh_ = now + refresh_retry_interval_;
  if (result.ok()) {
    cached_ = *result;
    invalidated_ = false;
    last_failure_ = OkStatus();
  } else {
    last_failure_ = result.status();
    last_failure_at_ = now;
  }
  std::vector<Waiter> waiters;
  waiters.swap(waiters_);
  lock.unlock();
  for (Waiter& waiter : waiters) {
    if (result.ok()) {
      waiter.done(result->credentials);
    } else {
      waiter.done(result.status());
    }
  }
}

void CredentialsProvider::OnWaiterDeadline(uint64_t waiter_id) {
  std::unique_lock lock(mutex_);
  const auto it = std::find_if(waiters_.begin(), waiters_.end(),
                               [&](const Waiter& waiter) { return waiter.id == waiter_id; });
  if (it == waiters_.end()) return;  // the fetch ended first
  auto done = std::move(it->done);
  waiters_.erase(it);
  lock.unlock();
  done(DeadlineExceededError(description_ + ": the deadline passed while credentials were being "
                                            "fetched"));
}

}  // namespace footfall::aws
