#include "http/session.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <string_view>

#include "core/request_log.h"
#include "http/header_scan.h"
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

// After a closing answer: how long and how much of the client's further input is read and
// discarded before the socket closes (see CloseAfterDraining).
constexpr std::chrono::milliseconds kDrainTime{1000};
constexpr size_t kMaxDrainBytes = 64 * 1024;

}  // namespace

Session::Session(asio::ip::tcp::socket socket, const SessionContext& context)
    : context_(context), timer_(socket.get_executor()) {
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
    self->SetDeadline(Waiting::kHandshake, self->context_.limits.read_timeout);
    self->tls_->async_handshake(asio::ssl::stream_base::server,
                                [self](beast::error_code error) {
                                  if (error) return self->Close();
                                  self->ReadRequest();
                                });
  });
}

void Session::StopWhenIdle() {
  asio::post(Tcp().get_executor(), [self = shared_from_this()] {
    // The socket may already be closed (a timeout closed it and the read's handler has not run
    // yet): the throwing cancel() would end the process on SIGTERM.
    beast::error_code ignored;
    if (self->reading_) self->Tcp().socket().cancel(ignored);
  });
}

void Session::ReadRequest() {
  if (context_.stopping.load()) {
    Close();
    return;
  }
  if (buffer_.size() > 0) {  // a pipelined request has already begun
    ReadStartedRequest();
    return;
  }
  // Waiting for a request costs only a socket: idle_timeout bounds it, and it ends silently.
  SetDeadline(Waiting::kIdle, context_.limits.idle_timeout);
  reading_ = true;
  const size_t room = std::min<size_t>(4096, buffer_.max_size());
  WithStream([&](auto& stream) {
  stream.async_read_some(buffer_.prepare(room),
                          [self = shared_from_this()](beast::error_code error, size_t bytes) {
                            self->reading_ = false;
                            self->buffer_.commit(bytes);
                            if (error || bytes == 0) {
                              self->Close();
                              return;
                            }
                            self->ReadStartedRequest();
                          });
  });
}

void Session::ReadStartedRequest() {
  parser_.emplace();
  parser_->header_limit(static_cast<uint32_t>(context_.limits.max_header_bytes));
  parser_->body_limit(context_.limits.max_body_bytes);
  // A started request gets read_timeout from its first byte in total, however it trickles in.
  // Past it, OnTimer cancels the read and the request is answered 408.
  request_timed_out_ = false;
  SetDeadline(Waiting::kRequest, context_.limits.read_timeout);
  ReadHeaderBytes(0);
}

void Session::ReadHeaderBytes(size_t scanned) {
  // Beast 1.74's parser checks header_limit only against the bytes of one put(): headers that
  // arrive in pieces (e.g. 4 KiB, then more) slip past it, and it keeps every field it parsed. So
  // the parser sees a request only once its whole header is buffered, and the limit is ours.
  const std::string_view data(static_cast<const char*>(buffer_.data().data()), buffer_.size());
  const HeaderScan scan = ScanHeader(data, scanned, context_.limits.max_header_bytes);
  if (scan.state == HeaderScan::State::kComplete) {
    reading_ = true;
    WithStream([&](auto& stream) {
    bhttp::async_read(stream, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code error, size_t) {
                        self->FinishRead(error);
                      });
    });
    return;
  }
  if (scan.state == HeaderScan::State::kTooLarge) {
    FinishRead(bhttp::error::header_limit);
    return;
  }
  // Shutting down: a request whose header has not even arrived is not in flight; it is not
  // waited for. (StopWhenIdle cancels a pending read, but a read that had just completed when it
  // ran — the first bytes of this request — would otherwise start another one here, and shutdown
  // would wait out read_timeout for it: seen once under load in CI, 10.1 s.)
  if (context_.stopping.load()) {
    Close();
    return;
  }
  reading_ = true;
  const size_t room = std::min<size_t>(4096, buffer_.max_size() - buffer_.size());
  WithStream([&](auto& stream) {
  stream.async_read_some(buffer_.prepare(room), [self = shared_from_this(), scanned = scan.scanned](
                                                     beast::error_code error, size_t bytes) {
    self->buffer_.commit(bytes);
    if (error) {
      self->FinishRead(error);
      return;
    }
    self->reading_ = false;
    self->ReadHeaderBytes(scanned);
  });
  });
}

void Session::FinishRead(beast::error_code error) {
  reading_ = false;
  ClearDeadline();
  OnRead(error);
}

void Session::OnRead(beast::error_code error) {
  const bool timed_out = request_timed_out_ && error == asio::error::operation_aborted &&
                         !context_.stopping.load();
  if (error && !timed_out && (IsDisconnect(error) || error == bhttp::error::buffer_overflow)) {
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
    core::Response response =
        timed_out ? core::ErrorResponse(408, "request_timeout", "The request took too long to send.")
                  : ResponseForReadError(error);
    response.route = "unknown";
    WriteResponse(std::move(response));
    return;
  }
  HandleRequest();
}

void Session::HandleRequest() {
  const auto& message = parser_->get();
  ++requests_served_;
  pipelined_in_a_row_ = pipelined_ ? pipelined_in_a_row_ + 1 : 0;
  keep_alive_ = message.keep_alive() && !context_.stopping.load() &&
                requests_served_ < context_.limits.max_requests_per_connection &&
                pipelined_in_a_row_ < context_.limits.max_pipelined_requests;
  method_ = std::string(message.method_string());
  // Bytes already read past this request were sent before its answer: the next one is pipelined.
  // (Only what one read brought in counts; a client that pipelines much gets it all in one read.)
  pipelined_ = buffer_.size() > 0;

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
  // The service may complete on a store thread: hop back to this connection's executor (no hop
  // when it completes here, or at this thread's CallbackHome), and keep the io_context running
  // until it does (that is what lets shutdown wait for in-flight requests).
  auto work = asio::make_work_guard(Tcp().get_executor());
  context_.service.Handle(request, [self = shared_from_this(),
                                    work = std::move(work)](core::Response response) mutable {
    auto executor = self->Tcp().get_executor();
    asio::dispatch(executor, [self = std::move(self), response = std::move(response)]() mutable {
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
  SetDeadline(Waiting::kWrite, context_.limits.write_timeout);
  WithStream([this, close](auto& stream) {
    asio::async_write(stream, asio::buffer(wire_),
                      [self = shared_from_this(), close](beast::error_code error, size_t) {
                        self->OnWrite(error, close);
                      });
  });
}

void Session::OnWrite(beast::error_code error, bool close) {
  if (error) {
    Close();
    return;
  }
  if (close) {
    CloseAfterDraining();
    return;
  }
  ReadRequest();
}

void Session::Close() {
  ClearDeadline();
  if (timer_armed_) {
    timer_.cancel();
    timer_armed_ = false;
  }
  beast::error_code ignored;
  // (Under TLS without close_notify: every answer has a Content-Length, so a client cannot
  // mistake a cut for the end of a body.)
  Tcp().socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  Tcp().socket().close(ignored);
}

void Session::CloseAfterDraining() {
  // Closing a socket with unread input makes the kernel send a RST, which can destroy the answer
  // still in the client's receive buffer (a 408, 413 or the last pipelined answer). So: half-close,
  // then read and discard what the client still sends, briefly and boundedly, before closing.
  beast::error_code ignored;
  Tcp().socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  buffer_.consume(buffer_.size());
  SetDeadline(Waiting::kDrain, kDrainTime);
  Drain(0);
}

void Session::Drain(size_t drained) {
  if (drained >= kMaxDrainBytes) {
    Close();
    return;
  }
  buffer_.consume(buffer_.size());
  WithStream([&](auto& stream) {
  stream.async_read_some(
      buffer_.prepare(std::min<size_t>(4096, buffer_.max_size())),
      [self = shared_from_this(), drained](beast::error_code error, size_t bytes) {
        if (error) {
          self->Close();
          return;
        }
        self->buffer_.commit(bytes);
        self->Drain(drained + bytes);
      });
  });
}

void Session::SetDeadline(Waiting what, std::chrono::milliseconds within) {
  waiting_ = what;
  deadline_ = std::chrono::steady_clock::now() + within;
  // Deadlines mostly move later (each request pushes them forward): then the armed timer fires
  // early, once, and OnTimer re-arms it. Only an earlier deadline needs the timer moved now.
  if (!timer_armed_ || deadline_ < timer_expiry_) ArmTimer(deadline_);
}

void Session::ClearDeadline() { waiting_ = Waiting::kNothing; }

void Session::ArmTimer(std::chrono::steady_clock::time_point at) {
  timer_armed_ = true;
  timer_expiry_ = at;
  timer_.expires_at(at);  // cancels a pending wait, whose handler then sees operation_aborted
  // A weak reference: an armed timer must not keep a closed connection alive.
  timer_.async_wait([weak = weak_from_this()](beast::error_code error) {
    if (error) return;  // re-armed or cancelled; the new wait (if any) is pending
    if (auto self = weak.lock()) self->OnTimer();
  });
}

void Session::OnTimer() {
  timer_armed_ = false;
  if (waiting_ == Waiting::kNothing) return;  // re-armed by the next SetDeadline
  const auto now = std::chrono::steady_clock::now();
  if (now < deadline_) {
    ArmTimer(deadline_);
    return;
  }
  const Waiting expired = waiting_;
  waiting_ = Waiting::kNothing;
  beast::error_code ignored;
  switch (expired) {
    case Waiting::kRequest:
      // The read's handler sees operation_aborted and answers 408.
      request_timed_out_ = true;
      if (reading_) Tcp().socket().cancel(ignored);
      return;
    case Waiting::kHandshake:
    case Waiting::kIdle:
    case Waiting::kWrite:
    case Waiting::kDrain:
      Close();  // the pending operation fails and its handler closes quietly
      return;
    case Waiting::kNothing:
      return;
  }
}

}  // namespace footfall::http
