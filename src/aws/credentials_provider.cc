#include "aws/credentials_provider.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <system_error>
#include <utility>

#include "aws/http_client.h"

namespace footfall::aws {

using std::chrono::milliseconds;

namespace {

const SystemClock kSystemClock;

constexpr std::string_view kWhitespace = " \t\r\n";

std::string_view Trim(std::string_view text) {
  const size_t begin = text.find_first_not_of(kWhitespace);
  if (begin == std::string_view::npos) return {};
  const size_t end = text.find_last_not_of(kWhitespace);
  return text.substr(begin, end - begin + 1);
}

// Visible ASCII, no space: what keys, tokens and URL targets may contain. It also keeps CR and LF
// (header injection) out of everything that goes into a request.
bool IsVisibleAscii(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

// For error messages: a short, printable rendering of an untrusted, non-secret value.
std::string Printable(std::string_view text, size_t limit = 120) {
  std::string out;
  for (char c : text.substr(0, limit)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (text.size() > limit) out += "...";
  return out;
}

Status WithPrefix(const Status& status, std::string_view prefix) {
  return Status(status.code(), std::string(prefix) + ": " + status.message());
}

std::string EndpointUrl(const HttpEndpoint& endpoint) {
  return std::string(endpoint.tls ? "https://" : "http://") + endpoint.HostHeader();
}

bool SameCredentials(const Credentials& a, const Credentials& b) {
  return a.access_key_id == b.access_key_id && a.secret_access_key == b.secret_access_key &&
         a.session_token == b.session_token;
}

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

// --- Answer parsing -----------------------------------------------------------------------------

Status Malformed(std::string_view what) {
  return UnavailableError("malformed answer: " + std::string(what));
}

// Checks the three strings and assembles the result. Names fields, never values.
StatusOr<ExpiringCredentials> MakeCredentials(std::string access_key_id, std::string secret,
                                              std::string token, std::string_view expiration,
                                              std::string_view token_field) {
  if (access_key_id.empty() || access_key_id.size() > 128 ||
      !std::all_of(access_key_id.begin(), access_key_id.end(),
                   [](unsigned char c) { return std::isalnum(c); })) {
    return Malformed("AccessKeyId is not 1 to 128 letters and digits");
  }
  if (secret.empty() || secret.size() > 256 || !IsVisibleAscii(secret)) {
    return Malformed("SecretAccessKey is not 1 to 256 visible ASCII characters");
  }
  if (token.empty() || token.size() > 16384 || !IsVisibleAscii(token)) {
    return Malformed(std::string(token_field) + " is not 1 to 16384 visible ASCII characters");
  }
  auto when = ParseIso8601Utc(expiration);
  if (!when.ok())
    return Malformed("Expiration '" + Printable(expiration, 40) + "' is not ISO 8601 UTC");
  ExpiringCredentials out;
  out.credentials.access_key_id = std::move(access_key_id);
  out.credentials.secret_access_key = std::move(secret);
  out.credentials.session_token = std::move(token);
  out.expiration = *when;
  return out;
}

// The content of the one element `name` in `xml`. Errors when it is missing, present twice or not
// closed. A self-closing <name/> has empty content.
StatusOr<std::string_view> OnlyElement(std::string_view xml, std::string_view name) {
  std::optional<std::string_view> found;
  size_t at = 0;
  while ((at = xml.find('<', at)) != std::string_view::npos) {
    const size_t name_end = at + 1 + name.size();
    if (xml.substr(at + 1, name.size()) != name || name_end >= xml.size()) {
      ++at;
      continue;
    }
    const char next = xml[name_end];
    if (next != '>' && next != '/' && next != ' ' && next != '\t' && next != '\r' && next != '\n') {
      ++at;  // another element whose name starts with `name`
      continue;
    }
    if (found) return Malformed("element " + std::string(name) + " appears more than once");
    const size_t tag_end = xml.find('>', name_end);
    if (tag_end == std::string_view::npos)
      return Malformed("element " + std::string(name) + " is not closed");
    if (xml[tag_end - 1] == '/') {
      found = std::string_view();
      at = tag_end;
      continue;
    }
    const std::string close = "</" + std::string(name) + ">";
    const size_t close_at = xml.find(close, tag_end + 1);
    if (close_at == std::string_view::npos) {
      return Malformed("element " + std::string(name) + " is not closed");
    }
    found = xml.substr(tag_end + 1, close_at - tag_end - 1);
    at = tag_end;
  }
  if (!found) return Malformed("element " + std::string(name) + " is missing");
  return *found;
}

// The text of a leaf element: no child elements, no CDATA; XML's five named entities and
// character references (ASCII only) decoded.
StatusOr<std::string> LeafText(std::string_view xml, std::string_view name) {
  ASSIGN_OR_RETURN(std::string_view raw, OnlyElement(xml, name));
  if (raw.find('<') != std::string_view::npos) {
    return Malformed("element " + std::string(name) + " is not plain text");
  }
  std::string out;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '&') {
      out += raw[i];
      continue;
    }
    const size_t semi = raw.find(';', i);
    if (semi == std::string_view::npos || semi - i > 10) {
      return Malformed("element " + std::string(name) + " has a bad entity");
    }
    const std::string_view entity = raw.substr(i + 1, semi - i - 1);
    static constexpr std::pair<std::string_view, char> kNamed[] = {
        {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}};
    char decoded = 0;
    for (const auto& [entity_name, c] : kNamed) {
      if (entity == entity_name) decoded = c;
    }
    if (decoded == 0 && entity.size() >= 2 && entity[0] == '#') {
      const bool hex = entity[1] == 'x';
      const std::string_view digits = entity.substr(hex ? 2 : 1);
      unsigned value = 0;
      const auto [end, ec] =
          std::from_chars(digits.data(), digits.data() + digits.size(), value, hex ? 16 : 10);
      if (ec == std::errc() && end == digits.data() + digits.size() && !digits.empty() &&
          value >= 0x20 && value < 0x7f) {
        decoded = static_cast<char>(value);
      }
    }
    if (decoded == 0) return Malformed("element " + std::string(name) + " has a bad entity");
    out += decoded;
    i = semi;
  }
  return out;
}

// "Code: Message" of an AWS Query API error answer, for the log; empty when there is none.
std::string QueryApiError(std::string_view xml) {
  auto error = OnlyElement(xml, "Error");
  if (!error.ok()) return "";
  auto code = LeafText(*error, "Code");
  auto message = LeafText(*error, "Message");
  std::string out = code.ok() ? Printable(*code, 64) : "";
  if (message.ok()) out += (out.empty() ? "" : ": ") + Printable(*message, 200);
  return out;
}

// --- HTTP sources -------------------------------------------------------------------------------

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

}  // namespace

class CredentialsProvider::Source {
 public:
  virtual ~Source() = default;
  // Fetches credentials; calls `done` exactly once, on the source's thread, never before Fetch
  // returns. Errors name the source.
  virtual void Fetch(std::function<void(StatusOr<ExpiringCredentials>)> done) = 0;
  // Runs `fn` on the source's thread after `delay`.
  virtual void After(milliseconds delay, std::function<void()> fn) = 0;
  // Fails what is in flight (its callbacks run now) and stops the thread. Called once, first.
  virtual void Shutdown() = 0;
};

namespace {

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
           [this, done = std::move(done)](HttpOutcome outcome) { done(Interpret(outcome)); });
    });
  }

 private:
  StatusOr<ExpiringCredentials> Interpret(const HttpOutcome& outcome) const {
    if (!outcome.status.ok()) return TransportError(outcome);
    const HttpMessage& answer = outcome.response;
    if (answer.status == 200) {
      auto parsed = ParseAssumeRoleWithWebIdentityAnswer(answer.body);
      if (!parsed.ok()) return WithPrefix(parsed.status(), name_);
      return parsed;
    }
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
           [this, done = std::move(done)](HttpOutcome outcome) { done(Interpret(outcome)); });
    });
  }

 private:
  StatusOr<ExpiringCredentials> Interpret(const HttpOutcome& outcome) const {
    if (!outcome.status.ok()) return TransportError(outcome);
    const HttpMessage& answer = outcome.response;
    if (answer.status == 200) {
      auto parsed = ParseCredentialsJson(answer.body);
      if (!parsed.ok()) return WithPrefix(parsed.status(), name_);
      return parsed;
    }
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
           if (!outcome.status.ok()) return done(TransportError(outcome));
           if (outcome.response.status != 200) {
             return done(Failure("the credentials request", outcome.response));
           }
           auto parsed = ParseCredentialsJson(outcome.response.body);
           if (!parsed.ok()) return done(WithPrefix(parsed.status(), name_));
           done(std::move(parsed));
         });
  }

  const bool v1_disabled_;
  CallPolicy policy_;
  CallPolicy token_policy_;
};

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

// --- Parsers (public for tests and fuzzing) -----------------------------------------------------

StatusOr<TimePoint> ParseIso8601Utc(std::string_view text) {
  const auto bad = [&] {
    return InvalidArgumentError("'" + Printable(text, 40) +
                                "' is not a UTC time like 2026-12-05T15:37:55Z");
  };
  if (text.size() < 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
      text[16] != ':') {
    return bad();
  }
  const auto number = [&](size_t at, size_t length, int& out) {
    const char* begin = text.data() + at;
    const auto [end, ec] = std::from_chars(begin, begin + length, out);
    return ec == std::errc() && end == begin + length &&
           std::isdigit(static_cast<unsigned char>(*begin));
  };
  int year, month, day, hour, minute, second;
  if (!number(0, 4, year) || !number(5, 2, month) || !number(8, 2, day) || !number(11, 2, hour) ||
      !number(14, 2, minute) || !number(17, 2, second)) {
    return bad();
  }
  std::string_view rest = text.substr(19);
  int64_t millis = 0;
  if (rest.front() == '.') {
    size_t digits = 1;
    while (digits < rest.size() && std::isdigit(static_cast<unsigned char>(rest[digits]))) {
      if (digits <= 3) millis = millis * 10 + (rest[digits] - '0');
      ++digits;
    }
    if (digits == 1 || digits > 20) return bad();
    for (size_t d = std::min<size_t>(digits - 1, 3); d < 3; ++d) millis *= 10;
    rest.remove_prefix(digits);
  }
  if (rest != "Z" && rest != "+00:00") return bad();
  const std::chrono::year_month_day date{std::chrono::year(year),
                                         std::chrono::month(static_cast<unsigned>(month)),
                                         std::chrono::day(static_cast<unsigned>(day))};
  // TimePoint counts nanoseconds in 64 bits: it ends in 2262.
  if (!date.ok() || year < 1970 || year > 2200 || hour > 23 || minute > 59 || second > 60)
    return bad();
  return TimePoint(std::chrono::sys_days(date)) + std::chrono::hours(hour) +
         std::chrono::minutes(minute) + std::chrono::seconds(second) + milliseconds(millis);
}

StatusOr<ExpiringCredentials> ParseAssumeRoleWithWebIdentityAnswer(std::string_view xml) {
  ASSIGN_OR_RETURN(std::string_view response,
                   OnlyElement(xml, "AssumeRoleWithWebIdentityResponse"));
  ASSIGN_OR_RETURN(std::string_view result,
                   OnlyElement(response, "AssumeRoleWithWebIdentityResult"));
  ASSIGN_OR_RETURN(std::string_view credentials, OnlyElement(result, "Credentials"));
  ASSIGN_OR_RETURN(std::string access_key_id, LeafText(credentials, "AccessKeyId"));
  ASSIGN_OR_RETURN(std::string secret, LeafText(credentials, "SecretAccessKey"));
  ASSIGN_OR_RETURN(std::string token, LeafText(credentials, "SessionToken"));
  ASSIGN_OR_RETURN(std::string expiration, LeafText(credentials, "Expiration"));
  return MakeCredentials(std::move(access_key_id), std::move(secret), std::move(token),
                         Trim(expiration), "SessionToken");
}

StatusOr<ExpiringCredentials> ParseCredentialsJson(std::string_view json) {
  const auto body = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return Malformed("not JSON");
  if (!body.is_object()) return Malformed("not a JSON object");
  const auto field = [&](const char* name) -> StatusOr<std::string> {
    const auto it = body.find(name);
    if (it == body.end()) return Malformed(std::string("field ") + name + " is missing");
    if (!it->is_string()) return Malformed(std::string("field ") + name + " is not a string");
    return it->get<std::string>();
  };
  if (const auto code = body.find("Code"); code != body.end()) {
    if (!code->is_string()) return Malformed("field Code is not a string");
    if (*code != "Success") {
      return UnavailableError("the answer's Code is '" +
                              Printable(code->get_ref<const std::string&>(), 64) +
                              "', not Success");
    }
  }
  ASSIGN_OR_RETURN(std::string access_key_id, field("AccessKeyId"));
  ASSIGN_OR_RETURN(std::string secret, field("SecretAccessKey"));
  ASSIGN_OR_RETURN(std::string token, field("Token"));
  ASSIGN_OR_RETURN(std::string expiration, field("Expiration"));
  return MakeCredentials(std::move(access_key_id), std::move(secret), std::move(token), expiration,
                         "Token");
}

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
                std::make_unique<WebIdentitySource>(std::move(client), std::move(name), token_file,
                                                    role_arn, session_name, options));
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
    return make(CredentialsSource::kContainer, std::move(description), std::nullopt,
                std::make_unique<ContainerSource>(
                    std::move(client), "container credentials (" + url + ")", std::move(target),
                    token_file, std::string(Trim(token)), options));
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
              std::make_unique<InstanceMetadataSource>(
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
