#include "aws/credential_sources.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <nlohmann/json.hpp>
#include <system_error>
#include <utility>

#include "aws/credentials_internal.h"

namespace footfall::aws {

using std::chrono::milliseconds;

namespace {

// RFC 3986 unreserved characters stay; everything else is %XX (spaces too: STS takes both).
std::string FormEncode(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// Reads a token file whole, at most `limit` bytes, without blocking on something that is not a
// regular file (a FIFO would block open() and read() forever). Surrounding whitespace is dropped:
// a trailing newline from an editor or `echo` would otherwise end up in the token.
StatusOr<std::string> ReadTokenFile(const std::string& path, size_t limit, std::string_view what) {
  const auto fail = [&](std::string_view reason) {
    return FailedPreconditionError("cannot use " + std::string(what) + " " + path + ": " +
                                   std::string(reason));
  };
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return fail(std::error_code(errno, std::generic_category()).message());
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};
  struct stat info {};
  if (::fstat(fd, &info) != 0)
    return fail(std::error_code(errno, std::generic_category()).message());
  if (!S_ISREG(info.st_mode)) return fail("not a regular file");
  std::string content(limit + 1, '\0');
  size_t size = 0;
  while (size < content.size()) {
    const ssize_t n = ::read(fd, content.data() + size, content.size() - size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(std::error_code(errno, std::generic_category()).message());
    if (n == 0) break;
    size += static_cast<size_t>(n);
  }
  if (size > limit) return fail("larger than " + std::to_string(limit) + " bytes");
  content.resize(size);
  const std::string_view token = Trim(content);
  if (token.empty()) return fail("empty");
  if (!IsVisibleAscii(token)) return fail("not a single line of visible ASCII");
  return std::string(token);
}

struct CallPolicy {
  milliseconds timeout{1000};
  int attempts = 1;
  milliseconds backoff{200};
  bool retry_timeouts = true;
  // An answer that is worth another attempt besides 5xx and 429 (STS throttling).
  std::function<bool(const HttpMessage&)> retry_answer;
};

bool RetryableAnswer(const CallPolicy& policy, const HttpMessage& answer) {
  return answer.status >= 500 || answer.status == 429 ||
         (policy.retry_answer && policy.retry_answer(answer));
}

// A source that asks one HTTP endpoint, through its own AsyncHttpClient (and thread).
class HttpSource : public CredentialsProvider::Source {
 public:
  HttpSource(std::unique_ptr<AsyncHttpClient> client, std::string name, size_t max_answer_bytes)
      : name_(std::move(name)),
        max_answer_bytes_(max_answer_bytes),
        owned_client_(std::move(client)),
        client_(owned_client_.get()) {}

  void After(milliseconds delay, std::function<void()> fn) override {
    client_->After(delay, std::move(fn));
  }
  // The client's destructor runs the callbacks still pending on its thread before it joins it;
  // they reach the client through client_, which (unlike owned_client_) stays set meanwhile.
  void Shutdown() override { owned_client_.reset(); }

 protected:
  // Sends `request`; retries transport failures (timeouts only with retry_timeouts), 5xx, 429
  // and policy.retry_answer up to policy.attempts, with doubling back-off.
  void Call(HttpMessage request, CallPolicy policy, std::function<void(HttpOutcome)> done,
            int attempt = 0) {
    const auto deadline = std::chrono::steady_clock::now() + policy.timeout;
    HttpMessage copy = request;
    client_->Send(
        std::move(copy), deadline,
        [this, request = std::move(request), policy = std::move(policy), done = std::move(done),
         attempt](HttpOutcome outcome) mutable {
          // Boost 1.74's parser skips the body limit when the body arrives with the
          // header (boostorg/beast#2183); check it here too.
          if (outcome.status.ok() && outcome.response.body.size() > max_answer_bytes_) {
            outcome.status = UnavailableError("the answer is larger than " +
                                              std::to_string(max_answer_bytes_) + " bytes");
            outcome.retry_can_help = false;
            outcome.response = {};
          }
          const bool retry = !outcome.status.ok()
                                 ? outcome.retry_can_help &&
                                       (policy.retry_timeouts ||
                                        outcome.status.code() != StatusCode::kDeadlineExceeded)
                                 : RetryableAnswer(policy, outcome.response);
          if (!retry || attempt + 1 >= policy.attempts) {
            done(std::move(outcome));
            return;
          }
          const milliseconds pause = policy.backoff * (1 << std::min(attempt, 10));
          client_->After(pause, [this, request = std::move(request), policy = std::move(policy),
                                 done = std::move(done), attempt]() mutable {
            Call(std::move(request), std::move(policy), std::move(done), attempt + 1);
          });
        });
  }

  // An error for a transport failure (after retries): always kUnavailable — a per-call timeout
  // is the source's, not the caller's deadline.
  Status TransportError(const HttpOutcome& outcome) const {
    return UnavailableError(name_ + ": " + outcome.status.message());
  }

  // What an answer means: the credentials `parse` reads from a 200 (its error prefixed with the
  // source's name), the transport error, or for any other status `refused(answer)`, which says
  // why in the source's own terms.
  StatusOr<ExpiringCredentials> Interpret(
      const HttpOutcome& outcome,
      StatusOr<ExpiringCredentials> (*parse)(std::string_view),
      const std::function<Status(const HttpMessage&)>& refused) const {
    if (!outcome.status.ok()) return TransportError(outcome);
    if (outcome.response.status != 200) return refused(outcome.response);
    auto parsed = parse(outcome.response.body);
    if (!parsed.ok()) return WithPrefix(parsed.status(), name_);
    return parsed;
  }

  const std::string name_;
  const size_t max_answer_bytes_;
  std::unique_ptr<AsyncHttpClient> owned_client_;
  AsyncHttpClient* const client_;
};

// STS AssumeRoleWithWebIdentity (EKS IRSA and any OIDC federation), unsigned, Query API.
class WebIdentitySource final : public HttpSource {
 public:
  WebIdentitySource(std::unique_ptr<AsyncHttpClient> client, std::string name,
                    std::string token_file, std::string role_arn, std::string session_name,
                    const CredentialsProviderOptions& options)
      : HttpSource(std::move(client), std::move(name), options.max_answer_bytes),
        token_file_(std::move(token_file)),
        role_arn_(std::move(role_arn)),
        session_name_(std::move(session_name)),
        max_token_bytes_(options.max_token_file_bytes) {
    policy_.timeout = options.sts_timeout;
    policy_.attempts = options.service_attempts;
    policy_.backoff = options.retry_backoff;
    policy_.retry_answer = [](const HttpMessage& answer) {
      const std::string error = QueryApiError(answer.body);
      return error.starts_with("Throttling") || error.starts_with("IDPCommunicationError");
    };
  }

  void Fetch(std::function<void(StatusOr<ExpiringCredentials>)> done) override {
    // The token file rotates (kubelet rewrites it well before it expires): read it every time,
    // and on this thread, not the caller's.
    client_->After(milliseconds(0), [this, done = std::move(done)]() mutable {
      auto token = ReadTokenFile(token_file_, max_token_bytes_, "web identity token file");
      if (!token.ok()) return done(WithPrefix(token.status(), name_));
      HttpMessage request;
      request.method = "POST";
      request.target = "/";
      request.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
                         {"Accept", "text/xml"}};
      request.body =
          "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=" + FormEncode(role_arn_) +
          "&RoleSessionName=" + FormEncode(session_name_) +
          "&WebIdentityToken=" + FormEncode(*token);
      Call(std::move(request), policy_,
           [this, done = std::move(done)](HttpOutcome outcome) {
             done(Interpret(outcome, ParseAssumeRoleWithWebIdentityAnswer,
                            [this](const HttpMessage& answer) { return Refused(answer); }));
           });
    });
  }

 private:
  Status Refused(const HttpMessage& answer) const {
    std::string message = name_ + ": HTTP " + std::to_string(answer.status);
    const std::string error = QueryApiError(answer.body);
    if (!error.empty()) message += " " + error;
    if (RetryableAnswer(policy_, answer) || error.starts_with("ExpiredToken")) {
      return UnavailableError(std::move(message));
    }
    return FailedPreconditionError(std::move(message));
  }

  const std::string token_file_;
  const std::string role_arn_;
  const std::string session_name_;
  const size_t max_token_bytes_;
  CallPolicy policy_;
};

// ECS task roles (RELATIVE_URI) and EKS Pod Identity / any local endpoint (FULL_URI).
class ContainerSource final : public HttpSource {
 public:
  ContainerSource(std::unique_ptr<AsyncHttpClient> client, std::string name, std::string target,
                  std::string token_file, std::string token,
                  const CredentialsProviderOptions& options)
      : HttpSource(std::move(client), std::move(name), options.max_answer_bytes),
        target_(std::move(target)),
        token_file_(std::move(token_file)),
        token_(std::move(token)),
        max_token_bytes_(options.max_token_file_bytes) {
    policy_.timeout = options.container_timeout;
    policy_.attempts = options.service_attempts;
    policy_.backoff = options.retry_backoff;
  }

  void Fetch(std::function<void(StatusOr<ExpiringCredentials>)> done) override {
    client_->After(milliseconds(0), [this, done = std::move(done)]() mutable {
      HttpMessage request;
      request.method = "GET";
      request.target = target_;
      request.headers = {{"Accept", "application/json"}};
      if (!token_file_.empty()) {
        // EKS Pod Identity rotates it: read it every time, as the SDKs do.
        auto token =
            ReadTokenFile(token_file_, max_token_bytes_, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
        if (!token.ok()) return done(WithPrefix(token.status(), name_));
        request.headers.emplace_back("Authorization", std::move(*token));
      } else if (!token_.empty()) {
        request.headers.emplace_back("Authorization", token_);
      }
      Call(std::move(request), policy_,
           [this, done = std::move(done)](HttpOutcome outcome) {
             done(Interpret(outcome, ParseCredentialsJson,
                            [this](const HttpMessage& answer) { return Refused(answer); }));
           });
    });
  }

 private:
  Status Refused(const HttpMessage& answer) const {
    std::string message = name_ + ": HTTP " + std::to_string(answer.status);
    // The ECS agent and the EKS Pod Identity agent say why in a small JSON object.
    const auto body = nlohmann::json::parse(answer.body, nullptr, false);
    if (body.is_object()) {
      for (const char* field : {"code", "Code", "message", "Message"}) {
        const auto it = body.find(field);
        if (it != body.end() && it->is_string()) {
          message += " " + Printable(it->get_ref<const std::string&>(), 200);
        }
      }
    }
    if (RetryableAnswer(policy_, answer)) return UnavailableError(std::move(message));
    return FailedPreconditionError(std::move(message));
  }

  const std::string target_;
  const std::string token_file_;
  const std::string token_;
  const size_t max_token_bytes_;
  CallPolicy policy_;
};

// EC2 instance metadata: IMDSv2 (a session token first), falling back to IMDSv1 where the SDKs
// do (the token PUT answered 403/404/405 or timed out, as in a container behind a hop limit of 1)
// unless AWS_EC2_METADATA_V1_DISABLED is true.
class InstanceMetadataSource final : public HttpSource {
 public:
  static constexpr std::string_view kCredentialsPath =
      "/latest/meta-data/iam/security-credentials/";

  InstanceMetadataSource(std::unique_ptr<AsyncHttpClient> client, std::string name,
                         bool v1_disabled, milliseconds timeout, int attempts, milliseconds backoff,
                         size_t max_answer_bytes)
      : HttpSource(std::move(client), std::move(name), max_answer_bytes),
        v1_disabled_(v1_disabled) {
    policy_.timeout = timeout;
    policy_.attempts = attempts;
    policy_.backoff = backoff;
    token_policy_ = policy_;
    // A token PUT that times out is how IMDSv2 looks from behind one hop too many: fall back.
    token_policy_.retry_timeouts = false;
  }

  void Fetch(std::function<void(StatusOr<ExpiringCredentials>)> done) override {
    HttpMessage request;
    request.method = "PUT";
    request.target = "/latest/api/token";
    request.headers = {{"X-aws-ec2-metadata-token-ttl-seconds", "21600"}};
    Call(std::move(request), token_policy_,
         [this, done = std::move(done)](HttpOutcome outcome) mutable {
           const bool timed_out =
               !outcome.status.ok() && outcome.status.code() == StatusCode::kDeadlineExceeded;
           if (!outcome.status.ok() && !timed_out) return done(TransportError(outcome));
           const int status = outcome.response.status;
           if (!timed_out && status == 200) {
             const std::string_view token = Trim(outcome.response.body);
             if (token.empty() || token.size() > 1024 || !IsVisibleAscii(token)) {
               return done(UnavailableError(name_ + ": malformed answer: the session token is "
                                                    "not 1 to 1024 visible ASCII characters"));
             }
             return GetRole(std::string(token), std::move(done));
           }
           const std::string what =
               timed_out ? "timed out" : "answered HTTP " + std::to_string(status);
           if (timed_out || status == 403 || status == 404 || status == 405) {
             if (v1_disabled_) {
               return done(UnavailableError(name_ + ": the IMDSv2 token request " + what +
                                            " and AWS_EC2_METADATA_V1_DISABLED is true"));
             }
             return GetRole("", std::move(done));
           }
           done(Failure("the IMDSv2 token request", outcome.response));
         });
  }

 private:
  HttpMessage Get(std::string target, const std::string& token) const {
    HttpMessage request;
    request.method = "GET";
    request.target = std::move(target);
    if (!token.empty()) request.headers = {{"X-aws-ec2-metadata-token", token}};
    return request;
  }

  Status Failure(std::string_view what, const HttpMessage& answer) const {
    std::string message =
        name_ + ": " + std::string(what) + " answered HTTP " + std::to_string(answer.status);
    if (answer.status == 401) {
      message +=
          " (session token refused; an instance that requires IMDSv2 answers a request "
          "without one so)";
    }
    if (answer.status >= 400 && answer.status < 500 && answer.status != 401 &&
        answer.status != 429) {
      return FailedPreconditionError(std::move(message));
    }
    return UnavailableError(std::move(message));
  }

  void GetRole(std::string token, std::function<void(StatusOr<ExpiringCredentials>)> done) {
    Call(Get(std::string(kCredentialsPath), token), policy_,
         [this, token, done = std::move(done)](HttpOutcome outcome) mutable {
           if (!outcome.status.ok()) return done(TransportError(outcome));
           if (outcome.response.status == 404) {
             return done(FailedPreconditionError(
                 name_ + ": no IAM role is attached to this instance (HTTP 404 for " +
                 std::string(kCredentialsPath) + ")"));
           }
           if (outcome.response.status != 200) {
             return done(Failure("the role name request", outcome.response));
           }
           // One role per instance profile; the answer is its name (first line).
           const std::string_view body = outcome.response.body;
           const std::string_view role = Trim(body.substr(0, body.find('\n')));
           const bool valid = !role.empty() && role.size() <= 128 &&
                              std::all_of(role.begin(), role.end(), [](unsigned char c) {
                                return std::isalnum(c) || std::string_view("+=,.@_-").find(c) !=
                                                              std::string_view::npos;
                              });
           if (!valid) {
             return done(UnavailableError(name_ + ": malformed answer: the role name is not 1 "
                                                  "to 128 characters of [A-Za-z0-9+=,.@_-]"));
           }
           GetCredentials(std::move(token), std::string(role), std::move(done));
         });
  }

  void GetCredentials(std::string token, std::string role,
                      std::function<void(StatusOr<ExpiringCredentials>)> done) {
    Call(Get(std::string(kCredentialsPath) + role, token), policy_,
         [this, done = std::move(done)](HttpOutcome outcome) {
           done(Interpret(outcome, ParseCredentialsJson, [this](const HttpMessage& answer) {
             return Failure("the credentials request", answer);
           }));
         });
  }

  const bool v1_disabled_;
  CallPolicy policy_;
  CallPolicy token_policy_;
};

}  // namespace

std::unique_ptr<CredentialsProvider::Source> MakeWebIdentitySource(
    std::unique_ptr<AsyncHttpClient> client, std::string name, std::string token_file,
    std::string role_arn, std::string session_name, const CredentialsProviderOptions& options) {
  return std::make_unique<WebIdentitySource>(std::move(client), std::move(name),
                                             std::move(token_file), std::move(role_arn),
                                             std::move(session_name), options);
}

std::unique_ptr<CredentialsProvider::Source> MakeContainerSource(
    std::unique_ptr<AsyncHttpClient> client, std::string name, std::string target,
    std::string token_file, std::string token, const CredentialsProviderOptions& options) {
  return std::make_unique<ContainerSource>(std::move(client), std::move(name), std::move(target),
                                           std::move(token_file), std::move(token), options);
}

std::unique_ptr<CredentialsProvider::Source> MakeInstanceMetadataSource(
    std::unique_ptr<AsyncHttpClient> client, std::string name, bool v1_disabled,
    milliseconds timeout, int attempts, milliseconds backoff, size_t max_answer_bytes) {
  return std::make_unique<InstanceMetadataSource>(std::move(client), std::move(name), v1_disabled,
                                                  timeout, attempts, backoff, max_answer_bytes);
}

}  // namespace footfall::aws
