// AsyncHttpClient: a small HTTP/1.1 client (plain or TLS) for one endpoint, used to call AWS
// services. Owns one thread with an io_context; keeps a pool of keep-alive connections (a pooled
// connection the server has closed is detected and discarded before reuse). Every exchange has a
// deadline; responses are size-limited. Thread-safe: Send() and After() may be called from any
// thread; callbacks run on the client's thread and must not block.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace footfall::aws {

struct HttpEndpoint {
  bool tls = false;
  std::string host;  // name or IP literal (IPv6 without brackets)
  std::string port;  // always set: "443"/"80" when the URL had none
  // The Host header value: host, plus ":port" when it is not the scheme's default.
  std::string HostHeader() const;
};

// Parses "https://dynamodb.eu-west-1.amazonaws.com" or "http://127.0.0.1:5000/". A path other than
// "/" is refused. Errors: kInvalidArgument.
StatusOr<HttpEndpoint> ParseEndpointUrl(std::string_view url);

struct HttpMessage {
  int status = 0;  // responses only
  std::string method = "POST";
  std::string target = "/";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// The result of one exchange. `status` is transport-level only: an HTTP 4xx/5xx is ok() with the
// response filled in. When !status.ok(), `may_have_reached_server` says whether the server could
// have received the whole request (and so possibly acted on it): false only when the failure
// happened before any byte was sent (resolve, connect, TLS handshake). `retry_can_help` is false
// when the TLS handshake was refused by OpenSSL itself (the server's certificate failed
// verification, no common protocol or cipher): the same endpoint will refuse again.
struct HttpOutcome {
  Status status;
  bool may_have_reached_server = false;
  bool retry_can_help = true;
  HttpMessage response;
};

struct HttpClientOptions {
  HttpEndpoint endpoint;
  // CA bundle for TLS verification; "" takes the first of Amazon Linux's
  // /etc/pki/tls/certs/ca-bundle.crt and Debian's /etc/ssl/certs/ca-certificates.crt that exists,
  // else OpenSSL's default paths (see docs/aws.md).
  std::string ca_file;
  // Idle keep-alive connections kept for reuse. Default 64.
  size_t max_idle_connections = 64;
  // Idle connections older than this are closed rather than reused. Default 30 s.
  std::chrono::seconds max_idle_age{30};
  // Largest response body accepted. Default 4 MiB.
  size_t max_response_bytes = 4 << 20;
  // Deadline used when the caller passes none. Default 10 s.
  std::chrono::milliseconds default_timeout{10000};
};

class AsyncHttpClient {
 public:
  using Deadline = std::chrono::steady_clock::time_point;

  // Errors: kInvalidArgument (bad CA file).
  static StatusOr<std::unique_ptr<AsyncHttpClient>> Create(HttpClientOptions options);
  // Fails every exchange still in flight with kUnavailable, then joins the thread.
  ~AsyncHttpClient();
  AsyncHttpClient(const AsyncHttpClient&) = delete;
  AsyncHttpClient& operator=(const AsyncHttpClient&) = delete;

  // Sends `request` (Host and Content-Length are set here) and calls `done` once with the outcome.
  // After `deadline` the exchange fails with kDeadlineExceeded.
  void Send(HttpMessage request, Deadline deadline, std::function<void(HttpOutcome)> done);

  // Runs `fn` on the client's thread after `delay` (for retry back-off).
  void After(std::chrono::milliseconds delay, std::function<void()> fn);

  const HttpEndpoint& endpoint() const;

 private:
  struct Impl;
  explicit AsyncHttpClient(std::unique_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace footfall::aws
