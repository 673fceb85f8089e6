// Session: one HTTP/1.1 connection. Reads a request under the HttpLimits, turns it into a
// core::Request, hands it to core::Service, and writes the response when the service completes —
// possibly on a store thread, from which the result is posted back to the connection's executor.
// One request at a time per connection (pipelined requests wait in the bounded read buffer); the
// timeouts and caps are HttpLimits'. Timeouts are one deadline per connection, watched by one
// timer that is re-armed only when a deadline moves earlier or the timer fires early: setting a
// deadline per request is a store, not a timer (and timerfd) operation.
// All methods run on the connection's executor; StopWhenIdle may be called from any thread.
#pragma once

#include <utility>  // Boost 1.74 Asio needs it in C++20

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "base/clock.h"
#include "base/log_writer.h"
#include "core/service.h"
#include "http/http_metrics.h"
#include "http/limits.h"

namespace footfall::http {

class SessionRegistry;

// What every session shares: the handler, limits, logging and the server's stop flag.
struct SessionContext {
  core::Service& service;
  const HttpLimits& limits;
  const Clock& clock;
  LogWriter* request_log;              // null: request logging off
  std::atomic<bool>& stopping;          // set when the server is shutting down
  std::function<std::string()> next_request_id;
  SessionRegistry& registry;            // sessions remove themselves when destroyed
  HttpMetrics* metrics;                 // null: no metrics
  // The TLS context for new connections (it changes when certificates are reloaded); null
  // function: plain HTTP.
  std::function<std::shared_ptr<boost::asio::ssl::context>()> tls;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(boost::asio::ip::tcp::socket socket, const SessionContext& context);
  ~Session();

  // Starts reading requests.
  void Start();
  // Closes the connection if it is waiting for a request; a request in flight completes first.
  // Thread-safe.
  void StopWhenIdle();

 private:
  // Waits (up to idle_timeout) for the first bytes of the next request, then reads it.
  void ReadRequest();
  // Reads the rest of a started request, within read_timeout of its first byte.
  void ReadStartedRequest();
  // Buffers the started request until its header is complete (or over max_header_bytes), then
  // has the parser read it. `scanned`: bytes already searched for the header's end.
  void ReadHeaderBytes(size_t scanned);
  // Ends a request read (stops its timer) and handles the outcome.
  void FinishRead(boost::beast::error_code error);
  void OnRead(boost::beast::error_code error);
  void HandleRequest();
  void WriteResponse(core::Response response);
  void OnWrite(boost::beast::error_code error, bool close);
  void Close();
  // The TCP layer, under TLS or not.
  boost::beast::tcp_stream& Tcp() { return tls_ ? boost::beast::get_lowest_layer(*tls_) : *plain_; }
  // Calls `use` with the stream requests are read from and answers written to.
  template <typename Use>
  void WithStream(Use&& use) {
    if (tls_) {
      use(*tls_);
    } else {
      use(*plain_);
    }
  }
  // Half-closes, discards what the client still sends (bounded), then closes.
  void CloseAfterDraining();
  void Drain(size_t drained);

  // What the connection is waiting for, which decides what its deadline passing means.
  enum class Waiting { kNothing, kHandshake, kIdle, kRequest, kWrite, kDrain };
  // From now on the connection waits for `what`, at most `within`.
  void SetDeadline(Waiting what, std::chrono::milliseconds within);
  // Waiting for the service (the store has its own deadline): no connection deadline.
  void ClearDeadline();
  void ArmTimer(std::chrono::steady_clock::time_point at);
  void OnTimer();

  std::shared_ptr<boost::asio::ssl::context> tls_context_;  // outlives tls_
  std::optional<boost::beast::tcp_stream> plain_;
  std::optional<boost::beast::ssl_stream<boost::beast::tcp_stream>> tls_;
  const SessionContext& context_;
  boost::beast::flat_buffer buffer_;
  boost::asio::steady_timer timer_;  // fires at or before deadline_ (see SetDeadline)
  std::chrono::steady_clock::time_point timer_expiry_;  // valid while timer_armed_
  bool timer_armed_ = false;
  std::chrono::steady_clock::time_point deadline_;
  Waiting waiting_ = Waiting::kNothing;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  std::string wire_;  // the serialised response being written
  std::string peer_address_;
  // Per request, for the log line.
  std::string request_id_;
  std::string method_;
  std::chrono::steady_clock::time_point started_;
  bool keep_alive_ = false;
  bool reading_ = false;  // only touched on the executor
  bool request_timed_out_ = false;
  size_t requests_served_ = 0;
  bool pipelined_ = false;          // the next request's bytes arrived before the last answer
  size_t pipelined_in_a_row_ = 0;
};

}  // namespace footfall::http
