#include "aws/http_client.h"

#include "base/loop_guard.h"
#include "base/thread_name.h"

#include <utility>  // Boost 1.74 Asio needs it in C++20

#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <thread>
#include <unordered_set>

namespace footfall::aws {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

std::string HttpEndpoint::HostHeader() const {
  const bool default_port = (tls && port == "443") || (!tls && port == "80");
  const std::string name = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return default_port ? name : name + ":" + port;
}

StatusOr<HttpEndpoint> ParseEndpointUrl(std::string_view url) {
  const auto bad = [&] {
    return InvalidArgumentError("'" + std::string(url) +
                                "' is not an endpoint URL like https://host[:port]");
  };
  HttpEndpoint endpoint;
  std::string_view rest;
  if (url.starts_with("https://")) {
    endpoint.tls = true;
    rest = url.substr(8);
  } else if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else {
    return bad();
  }
  if (rest.ends_with('/')) rest.remove_suffix(1);
  if (rest.empty() || rest.find_first_of("/?#@ ") != std::string_view::npos) return bad();
  std::string_view port;
  if (rest.front() == '[') {
    const size_t close = rest.find(']');
    if (close == std::string_view::npos) return bad();
    endpoint.host = std::string(rest.substr(1, close - 1));
    std::string_view tail = rest.substr(close + 1);
    if (!tail.empty()) {
      if (tail.front() != ':') return bad();
      port = tail.substr(1);
    }
  } else if (const size_t colon = rest.rfind(':'); colon != std::string_view::npos) {
    endpoint.host = std::string(rest.substr(0, colon));
    port = rest.substr(colon + 1);
  } else {
    endpoint.host = std::string(rest);
  }
  if (endpoint.host.empty()) return bad();
  for (char c : port) {
    if (c < '0' || c > '9') return bad();
  }
  endpoint.port = !port.empty() ? std::string(port) : (endpoint.tls ? "443" : "80");
  return endpoint;
}

namespace {

// One keep-alive connection, plain or TLS.
struct Connection {
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> secure;
  std::chrono::steady_clock::time_point idle_since;

  beast::tcp_stream& lowest() { return secure ? beast::get_lowest_layer(*secure) : *plain; }

  // False if the peer already closed it (or sent something unasked): a pooled connection must be
  // checked before reuse, or a request written into a dead socket becomes an ambiguous failure.
  bool LooksReusable() {
    char byte;
    const int fd = lowest().socket().native_handle();
    const ssize_t n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }

  void Close() {
    beast::error_code ignored;
    lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
    lowest().socket().close(ignored);
  }
};

}  // namespace

struct AsyncHttpClient::Impl : std::enable_shared_from_this<Impl> {
  class Exchange;

  explicit Impl(HttpClientOptions opts)
      : options(std::move(opts)),
        ssl_context(asio::ssl::context::tls_client),
        guard(asio::make_work_guard(io)) {}

  Status Init() {
    if (!options.endpoint.tls) return OkStatus();
    beast::error_code error;
    std::string ca_file = options.ca_file;
    if (ca_file.empty()) {
      // A statically linked OpenSSL looks where the build machine (Debian) keeps certificates;
      // on Amazon Linux (Lambda) the bundle is elsewhere. Take the first that exists.
      for (const char* candidate :
           {"/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/certs/ca-certificates.crt"}) {
        if (::access(candidate, R_OK) == 0) {
          ca_file = candidate;
          break;
        }
      }
    }
    if (ca_file.empty()) {
      ssl_context.set_default_verify_paths(error);
    } else {
      ssl_context.load_verify_file(ca_file, error);
    }
    if (error) {
      return InvalidArgumentError("cannot load CA certificates " + options.ca_file + ": " +
                                  error.message());
    }
    ssl_context.set_verify_mode(asio::ssl::verify_peer);
    return OkStatus();
  }

  std::unique_ptr<Connection> TakeIdle() {
    const auto now = std::chrono::steady_clock::now();
    while (!idle.empty()) {
      std::unique_ptr<Connection> connection = std::move(idle.back());
      idle.pop_back();
      if (now - connection->idle_since < options.max_idle_age && connection->LooksReusable()) {
        return connection;
      }
      connection->Close();
    }
    return nullptr;
  }

  void ReturnIdle(std::unique_ptr<Connection> connection) {
    if (stopping || idle.size() >= options.max_idle_connections) {
      connection->Close();
      return;
    }
    connection->idle_since = std::chrono::steady_clock::now();
    idle.push_back(std::move(connection));
  }

  HttpClientOptions options;
  asio::io_context io{1};
  asio::ssl::context ssl_context;
  asio::executor_work_guard<asio::io_context::executor_type> guard;
  std::thread thread;
  // Touched only on the io thread:
  std::vector<std::unique_ptr<Connection>> idle;
  std::unordered_set<std::shared_ptr<Exchange>> in_flight;
  std::unordered_set<std::shared_ptr<asio::steady_timer>> timers;
  bool stopping = false;
};

// One request/response exchange: acquire a connection, write, read, release.
class AsyncHttpClient::Impl::Exchange : public std::enable_shared_from_this<Exchange> {
 public:
  Exchange(std::shared_ptr<Impl> impl, HttpMessage request, Deadline deadline,
           std::function<void(HttpOutcome)> done)
      : impl_(std::move(impl)),
        resolver_(impl_->io),
        request_(std::move(request)),
        deadline_(deadline),
        done_(std::move(done)) {}

  void Start() {
    connection_ = impl_->TakeIdle();
    if (connection_) {
      Write();
      return;
    }
    const HttpEndpoint& endpoint = impl_->options.endpoint;
    resolver_.async_resolve(endpoint.host, endpoint.port,
                            [self = shared_from_this()](beast::error_code error,
                                                        tcp::resolver::results_type results) {
                              if (error) return self->Fail(error, "resolving");
                              self->Connect(results);
                            });
  }

  // Aborts the exchange (used at shutdown); `done` runs from the cancelled handler.
  void Cancel() {
    resolver_.cancel();
    if (connection_) connection_->Close();
  }

 private:
  void Connect(const tcp::resolver::results_type& results) {
    connection_ = std::make_unique<Connection>();
    if (impl_->options.endpoint.tls) {
      connection_->secure =
          std::make_unique<beast::ssl_stream<beast::tcp_stream>>(impl_->io, impl_->ssl_context);
    } else {
      connection_->plain = std::make_unique<beast::tcp_stream>(impl_->io);
    }
    connection_->lowest().expires_at(deadline_);
    connection_->lowest().async_connect(
        results, [self = shared_from_this()](beast::error_code error, const tcp::endpoint&) {
          if (error) return self->Fail(error, "connecting");
          beast::error_code ignored;
          self->connection_->lowest().socket().set_option(tcp::no_delay(true), ignored);
          if (self->connection_->secure) return self->Handshake();
          self->Write();
        });
  }

  void Handshake() {
    const std::string& host = impl_->options.endpoint.host;
    auto& stream = *connection_->secure;
    beast::error_code not_an_address;
    asio::ip::make_address(host, not_an_address);
    // SNI carries names only (RFC 6066); an IP literal is checked against the certificate's SANs.
    if (not_an_address && !SSL_set_tlsext_host_name(stream.native_handle(), host.c_str())) {
      return Fail(beast::error_code(static_cast<int>(::ERR_get_error()),
                                    asio::error::get_ssl_category()),
                  "setting TLS server name");
    }
    stream.set_verify_callback(asio::ssl::host_name_verification(host));
    stream.async_handshake(asio::ssl::stream_base::client,
                           [self = shared_from_this()](beast::error_code error) {
                             if (error) return self->FailHandshake(error);
                             self->Write();
                           });
  }

  void Write() {
    wire_request_ = {};
    wire_request_.version(11);
    wire_request_.method_string(request_.method);
    wire_request_.target(request_.target);
    wire_request_.set(bhttp::field::host, impl_->options.endpoint.HostHeader());
    for (const auto& [name, value] : request_.headers) wire_request_.set(name, value);
    wire_request_.body() = std::move(request_.body);
    wire_request_.keep_alive(true);
    wire_request_.prepare_payload();
    connection_->lowest().expires_at(deadline_);
    sent_ = true;  // from here on the server may see the request
    auto on_write = [self = shared_from_this()](beast::error_code error, size_t) {
      if (error) return self->Fail(error, "sending");
      self->Read();
    };
    if (connection_->secure) {
      bhttp::async_write(*connection_->secure, wire_request_, std::move(on_write));
    } else {
      bhttp::async_write(*connection_->plain, wire_request_, std::move(on_write));
    }
  }

  // The header first, then the body: Beast 1.74's parser skips its body limit when the body
  // comes in the same read as the header (boostorg/beast#2183), and a string body reserves the
  // announced Content-Length up front (a "Content-Length: 100000000000" answer would try to
  // allocate 100 GB). So the announced length is checked here, before the body is read.
  void Read() {
    parser_.emplace();
    parser_->body_limit(impl_->options.max_response_bytes);
    auto on_header = [self = shared_from_this()](beast::error_code error, size_t) {
      if (error) return self->Fail(error, "receiving");
      const auto length = self->parser_->content_length();
      if (length && *length > self->impl_->options.max_response_bytes) {
        return self->Fail(bhttp::error::body_limit, "receiving");
      }
      self->ReadBody();
    };
    if (connection_->secure) {
      bhttp::async_read_header(*connection_->secure, buffer_, *parser_, std::move(on_header));
    } else {
      bhttp::async_read_header(*connection_->plain, buffer_, *parser_, std::move(on_header));
    }
  }

  void ReadBody() {
    auto on_read = [self = shared_from_this()](beast::error_code error, size_t) {
      if (error) return self->Fail(error, "receiving");
      if (self->parser_->get().body().size() > self->impl_->options.max_response_bytes) {
        return self->Fail(bhttp::error::body_limit, "receiving");  // chunked, past the limit
      }
      self->Succeed();
    };
    if (connection_->secure) {
      bhttp::async_read(*connection_->secure, buffer_, *parser_, std::move(on_read));
    } else {
      bhttp::async_read(*connection_->plain, buffer_, *parser_, std::move(on_read));
    }
  }

  void Succeed() {
    const auto& message = parser_->get();
    HttpOutcome outcome;
    outcome.response.status = static_cast<int>(message.result_int());
    for (const auto& field : message) {
      outcome.response.headers.emplace_back(std::string(field.name_string()),
                                            std::string(field.value()));
    }
    outcome.response.body = message.body();
    if (message.keep_alive() && buffer_.size() == 0) {
      connection_->lowest().expires_never();
      impl_->ReturnIdle(std::move(connection_));
    } else {
      connection_->Close();
    }
    Complete(std::move(outcome));
  }

  void FailHandshake(beast::error_code error) {
    // OpenSSL's own verdicts (a certificate that fails verification, no shared protocol) come in
    // the SSL category; a closed or timed-out connection does not, and may well work next time.
    Fail(error, "TLS handshake", error.category() != asio::error::get_ssl_category());
  }

  void Fail(beast::error_code error, const char* stage, bool retry_can_help = true) {
    if (connection_) connection_->Close();
    HttpOutcome outcome;
    outcome.may_have_reached_server = sent_;
    outcome.retry_can_help = retry_can_help;
    std::string message = std::string(stage) + " " + impl_->options.endpoint.HostHeader() + ": " +
                          error.message();
    if (error == beast::error::timeout) {
      outcome.status = DeadlineExceededError(std::move(message));
    } else {
      outcome.status = UnavailableError(std::move(message));
    }
    Complete(std::move(outcome));
  }

  void Complete(HttpOutcome outcome) {
    auto done = std::move(done_);
    impl_->in_flight.erase(shared_from_this());
    if (done) done(std::move(outcome));
  }

  std::shared_ptr<Impl> impl_;
  tcp::resolver resolver_;
  HttpMessage request_;
  Deadline deadline_;
  std::function<void(HttpOutcome)> done_;
  std::unique_ptr<Connection> connection_;
  bool sent_ = false;
  bhttp::request<bhttp::string_body> wire_request_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::response_parser<bhttp::string_body>> parser_;
};

StatusOr<std::unique_ptr<AsyncHttpClient>> AsyncHttpClient::Create(HttpClientOptions options) {
  auto impl = std::make_unique<Impl>(std::move(options));
  RETURN_IF_ERROR(impl->Init());
  impl->thread = std::thread([io = &impl->io] {
    NameThisThread("ff-aws-http");
    RunGuarded(*io, "aws-http");
  });
  return std::unique_ptr<AsyncHttpClient>(new AsyncHttpClient(std::move(impl)));
}

AsyncHttpClient::AsyncHttpClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

AsyncHttpClient::~AsyncHttpClient() {
  asio::post(impl_->io, [impl = impl_] {
    impl->stopping = true;
    for (auto& connection : impl->idle) connection->Close();
    impl->idle.clear();
    // Copies: cancelling completes exchanges, which erase themselves from the sets.
    auto exchanges = impl->in_flight;
    for (auto& exchange : exchanges) exchange->Cancel();
    auto timers = impl->timers;
    for (auto& timer : timers) timer->cancel();
    impl->guard.reset();
  });
  impl_->thread.join();
}

void AsyncHttpClient::Send(HttpMessage request, Deadline deadline,
                           std::function<void(HttpOutcome)> done) {
  if (deadline == Deadline::max()) {
    deadline = std::chrono::steady_clock::now() + impl_->options.default_timeout;
  }
  asio::post(impl_->io, [impl = impl_, request = std::move(request), deadline,
                         done = std::move(done)]() mutable {
    if (impl->stopping) {
      HttpOutcome outcome;
      outcome.status = UnavailableError("HTTP client is shutting down");
      done(std::move(outcome));
      return;
    }
    auto exchange =
        std::make_shared<Impl::Exchange>(impl, std::move(request), deadline, std::move(done));
    impl->in_flight.insert(exchange);
    exchange->Start();
  });
}

void AsyncHttpClient::After(std::chrono::milliseconds delay, std::function<void()> fn) {
  asio::post(impl_->io, [impl = impl_, delay, fn = std::move(fn)]() mutable {
    if (impl->stopping) {
      fn();  // shutting down: no waiting; fn's own call then fails fast
      return;
    }
    auto timer = std::make_shared<asio::steady_timer>(impl->io, delay);
    impl->timers.insert(timer);
    timer->async_wait([impl, timer, fn = std::move(fn)](beast::error_code) {
      impl->timers.erase(timer);
      fn();  // also on cancellation at shutdown, so no caller waits forever
    });
  });
}

const HttpEndpoint& AsyncHttpClient::endpoint() const { return impl_->options.endpoint; }

}  // namespace footfall::aws
