#include "http/session.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "core/request_log.h"
#include "http/listener.h"
#include "core/responses.h"

namespace footfall::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace asio = boost::asio;

namespace {

// True for read errors that mean "the peer went away or timed out": close without answering.
bool IsDisconnect(const beast::error_code& error) {
  return error == bhttp::error::end_of_stream || error == bhttp::error::partial_message ||
         error == asio::error::eof || error == asio::error::connection_reset ||
         error == asio::error::operation_aborted || error == beast::error::timeout ||
         error == asio::error::broken_pipe;
}

core::Response ResponseForReadError(const beast::error_code& error) {
  if (error == bhttp::error::header_limit) {
    return core::ErrorResponse(431, "headers_too_large", "Request headers are too large.");
  }
  if (error == bhttp::error::body_limit) {
    return core::ErrorResponse(413, "body_too_large", "Request body is too large.");
  }
  return core::ErrorResponse(400, "bad_request", "The request is not valid HTTP/1.1.");
}

}  // namespace

Session::Session(asio::ip::tcp::socket socket, const SessionContext& context)
    : context_(context) {
  beast::error_code error;
  const auto endpoint = socket.remote_endpoint(error);
  if (!error) peer_address_ = endpoint.address().to_string();
  if (context_.tls) {
    tls_context_ = context_.tls();
    tls_.emplace(std::move(socket), *tls_context_);
  } else {
    plain_.emplace(std::move(socket));
  }
  // Bounds how much a pipelining client can make us hold.
  buffer_.max_size(context_.limits.max_header_bytes + context_.limits.max_body_bytes + 4096);
  if (context_.metrics != nullptr) context_.metrics->ConnectionOpened();
}

Session::~Session() {
  context_.registry.Remove(this);
  if (context_.metrics != nullptr) context_.metrics->ConnectionClosed();
}

void Session::Start() {
  asio::dispatch(Tcp().get_executor(), [self = shared_from_this()] {
    if (!self->tls_) return self->ReadRequest();
    // TLS first, under the read timeout: a client that never finishes its handshake is cut off
    // like one that never finishes its request.
    self->Tcp().expires_after(self->context_.limits.read_timeout);
    self->tls_->async_handshake(asio::ssl::stream_base::server,
                                [self](beast::error_code error) {
                                  if (error) return self->Close();
                                  self->ReadRequest();
                                });
  });
}

void Session::StopWhenIdle() {
  asio::post(Tcp().get_executor(), [self = shared_from_this()] {
    if (self->reading_) self->Tcp().socket().cancel();
  });
}

void Session::ReadRequest() {
  if (context_.stopping.load()) {
    Close();
    return;
  }
  parser_.emplace();
  parser_->header_limit(static_cast<uint32_t>(context_.limits.max_header_bytes));
  parser_->body_limit(context_.limits.max_body_bytes);
  Tcp().expires_after(context_.limits.read_timeout);
  reading_ = true;
  WithStream([this](auto& stream) {
    bhttp::async_read(stream, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code error, size_t) {
                        self->reading_ = false;
                        self->OnRead(error);
                      });
  });
}

void Session::OnRead(beast::error_code error) {
  if (error && (IsDisconnect(error) || error == bhttp::error::buffer_overflow)) {
    Close();
    return;
  }
  started_ = std::chrono::steady_clock::now();
  request_id_ = context_.next_request_id();
  if (context_.metrics != nullptr) context_.metrics->RequestStarted();
  if (error) {
    // A request refused for its size still has a parsed method and route worth logging.
    method_ = parser_->is_header_done() ? std::string(parser_->get().method_string()) : "OTHER";
    keep_alive_ = false;
    core::Response response = ResponseForReadError(error);
    response.route = "unknown";
    WriteResponse(std::move(response));
    return;
  }
  HandleRequest();
}

void Session::HandleRequest() {
  const auto& message = parser_->get();
  ++requests_served_;
  keep_alive_ = message.keep_alive() && !context_.stopping.load() &&
                requests_served_ < context_.limits.max_requests_per_connection;
  method_ = std::string(message.method_string());

  core::Request request;
  request.method = method_;
  request.target = std::string(message.target());
  request.body = message.body();
  request.peer_address = peer_address_;
  request.request_id = request_id_;
  request.headers.reserve(16);
  for (const auto& field : message) {
    request.headers.push_back({std::string(field.name_string()), std::string(field.value())});
  }
  const bool missing_host = message.version() >= 11 && message.find(bhttp::field::host) == message.end();
  if (request.target.empty() || request.target.front() != '/' || missing_host) {
    // RFC 9112: an origin-form target, and a Host header on HTTP/1.1.
    core::Response response = core::ErrorResponse(
        400, "bad_request", "The request needs a path target and, on HTTP/1.1, a Host header.");
    response.route = "unknown";
    WriteResponse(std::move(response));
    return;
  }
  // The service may complete on a store thread: hop back to this connection's executor, and keep
  // the io_context running until it does (that is what lets shutdown wait for in-flight requests).
  auto work = asio::make_work_guard(Tcp().get_executor());
  context_.service.Handle(request, [self = shared_from_this(),
                                    work = std::move(work)](core::Response response) mutable {
    auto executor = self->Tcp().get_executor();
    asio::post(executor, [self = std::move(self), response = std::move(response)]() mutable {
      self->WriteResponse(std::move(response));
    });
    work.reset();
  });
}

void Session::WriteResponse(core::Response response) {
  // Serialised by hand into one buffer: footfall's responses are small and fully known here, and
  // Beast's generic serializer cost more CPU per request than the rest of the write path.
  // Header names and values come from footfall's own code (the only echoed value, the allowed
  // origin, is a configured one), so no CR/LF can reach them.
  const unsigned status = static_cast<unsigned>(response.status);
  wire_.clear();
  wire_ += "HTTP/1.1 ";
  wire_ += std::to_string(status);
  wire_ += ' ';
  const auto reason = bhttp::obsolete_reason(static_cast<bhttp::status>(status));
  wire_.append(reason.data(), reason.size());
  wire_ += "\r\nServer: footfall\r\nX-Request-Id: ";
  wire_ += request_id_;
  for (const core::Header& header : response.headers) {
    wire_ += "\r\n";
    wire_ += header.name;
    wire_ += ": ";
    wire_ += header.value;
  }
  if (!keep_alive_) wire_ += "\r\nConnection: close";
  wire_ += "\r\nContent-Length: ";
  wire_ += std::to_string(response.body.size());
  wire_ += "\r\n\r\n";
  wire_ += response.body;

  const auto latency = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - started_);
  if (context_.metrics != nullptr) {
    context_.metrics->RequestFinished(response.route, response.status, latency.count() / 1e6);
  }
  if (context_.request_log != nullptr) {
    context_.request_log->Write(core::FormatRequestLogLine(context_.clock.Now(), request_id_,
                                                           method_, response, latency.count()));
  }

  const bool close = !keep_alive_;
  Tcp().expires_after(context_.limits.write_timeout);
  WithStream([this, close](auto& stream) {
    asio::async_write(stream, asio::buffer(wire_),
                      [self = shared_from_this(), close](beast::error_code error, size_t) {
                        self->OnWrite(error, close);
                      });
  });
}

void Session::OnWrite(beast::error_code error, bool close) {
  if (error || close) {
    Close();
    return;
  }
  ReadRequest();
}

void Session::Close() {
  beast::error_code ignored;
  // (Under TLS without close_notify: every answer has a Content-Length, so a client cannot
  // mistake a cut for the end of a body.)
  Tcp().socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  Tcp().socket().close(ignored);
}

}  // namespace footfall::http
