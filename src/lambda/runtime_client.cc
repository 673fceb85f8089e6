#include "lambda/runtime_client.h"

#include <utility>  // Boost 1.74 Asio needs it in C++20

#include <nlohmann/json.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <optional>

namespace footfall::lambda {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {
constexpr const char* kApiPrefix = "/2018-06-01/runtime";
}  // namespace

struct RuntimeClient::Impl {
  std::string host;
  std::string port;
  size_t max_event_bytes;
  asio::io_context io;
  std::optional<tcp::socket> socket;
  beast::flat_buffer buffer;

  Status Connect() {
    if (socket && socket->is_open()) return OkStatus();
    beast::error_code error;
    tcp::resolver resolver(io);
    auto results = resolver.resolve(host, port, error);
    if (error) return UnavailableError("resolving Runtime API " + host + ": " + error.message());
    socket.emplace(io);
    asio::connect(*socket, results, error);
    if (error) {
      socket.reset();
      return UnavailableError("connecting to Runtime API " + host + ":" + port + ": " +
                              error.message());
    }
    buffer.clear();
    return OkStatus();
  }

  void Drop() {
    beast::error_code ignored;
    if (socket) socket->close(ignored);
    socket.reset();
  }

  struct Reply {
    bhttp::response<bhttp::string_body> message;
    bool body_too_large = false;  // headers are valid, the body was not kept
  };

  // Sends one request and reads the response. Retries once on a fresh connection if a kept-alive
  // one turns out to be closed before anything was read.
  StatusOr<Reply> Exchange(bhttp::request<bhttp::string_body>& request, size_t body_limit) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      RETURN_IF_ERROR(Connect());
      request.set(bhttp::field::host, host + ":" + port);
      request.keep_alive(true);
      request.prepare_payload();
      bhttp::response_parser<bhttp::string_body> parser;
      parser.body_limit(body_limit);
      beast::error_code error;
      bhttp::write(*socket, request, error);
      if (!error) bhttp::read(*socket, buffer, parser, error);
      if (!error) {
        if (!parser.get().keep_alive()) Drop();
        return Reply{parser.release(), false};
      }
      Drop();  // whatever is left of this response is unread: the connection is unusable
      if (error == bhttp::error::body_limit) return Reply{parser.release(), true};
      const bool stale = attempt == 0 && !parser.is_header_done() &&
                         (error == bhttp::error::end_of_stream || error == asio::error::eof ||
                          error == asio::error::connection_reset ||
                          error == asio::error::broken_pipe);
      if (!stale) return UnavailableError("Runtime API exchange failed: " + error.message());
    }
    return UnavailableError("Runtime API closed the connection twice");
  }

  Status Post(const std::string& target, const std::string& body,
              const std::string& error_type = "") {
    bhttp::request<bhttp::string_body> request(bhttp::verb::post, target, 11);
    request.set(bhttp::field::content_type, "application/json");
    if (!error_type.empty()) request.set("Lambda-Runtime-Function-Error-Type", error_type);
    request.body() = body;
    ASSIGN_OR_RETURN(Reply reply, Exchange(request, 1 << 20));
    const unsigned status = reply.message.result_int();
    if (status != 202) {
      return FailedPreconditionError("Runtime API refused " + target + " with " +
                                     std::to_string(status) + ": " + reply.message.body());
    }
    return OkStatus();
  }
};

StatusOr<std::unique_ptr<RuntimeClient>> RuntimeClient::Create(const std::string& address,
                                                               size_t max_event_bytes) {
  const size_t colon = address.rfind(':');
  if (address.empty() || colon == std::string::npos || colon == 0 ||
      colon + 1 == address.size()) {
    return InvalidArgumentError("AWS_LAMBDA_RUNTIME_API '" + address + "' is not host:port");
  }
  auto impl = std::make_unique<Impl>();
  impl->host = address.substr(0, colon);
  impl->port = address.substr(colon + 1);
  impl->max_event_bytes = max_event_bytes;
  return std::unique_ptr<RuntimeClient>(new RuntimeClient(std::move(impl)));
}

RuntimeClient::RuntimeClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RuntimeClient::~RuntimeClient() = default;

StatusOr<Invocation> RuntimeClient::Next() {
  bhttp::request<bhttp::string_body> request(bhttp::verb::get,
                                             std::string(kApiPrefix) + "/invocation/next", 11);
  ASSIGN_OR_RETURN(Impl::Reply reply, impl_->Exchange(request, impl_->max_event_bytes));
  const auto& message = reply.message;
  Invocation invocation;
  invocation.request_id = std::string(message["Lambda-Runtime-Aws-Request-Id"]);
  if (invocation.request_id.empty()) {
    return UnavailableError("Runtime API answered /next without a request id (status " +
                            std::to_string(message.result_int()) + ")");
  }
  invocation.trace_id = std::string(message["Lambda-Runtime-Trace-Id"]);
  invocation.function_arn = std::string(message["Lambda-Runtime-Invoked-Function-Arn"]);
  try {
    invocation.deadline_ms = std::stoll(std::string(message["Lambda-Runtime-Deadline-Ms"]));
  } catch (...) {  // std::stoll throws on garbage; a missing deadline is treated as "none"
    invocation.deadline_ms = 0;
  }
  invocation.event_too_large = reply.body_too_large;
  if (!reply.body_too_large) invocation.event = message.body();
  return invocation;
}

Status RuntimeClient::PostResponse(const std::string& request_id, const std::string& body) {
  return impl_->Post(std::string(kApiPrefix) + "/invocation/" + request_id + "/response", body);
}

Status RuntimeClient::PostError(const std::string& request_id, const std::string& error_type,
                                const std::string& message) {
  const nlohmann::json body = {{"errorMessage", message}, {"errorType", error_type}};
  return impl_->Post(std::string(kApiPrefix) + "/invocation/" + request_id + "/error",
                     body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                     error_type);
}

Status RuntimeClient::PostInitError(const std::string& error_type, const std::string& message) {
  const nlohmann::json body = {{"errorMessage", message}, {"errorType", error_type}};
  return impl_->Post(std::string(kApiPrefix) + "/init/error",
                     body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                     error_type);
}

}  // namespace footfall::lambda
