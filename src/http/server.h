// HttpServer: footfall's HTTP adapter. Owns one io_context per thread (default: one per core),
// the listener and the live sessions. Every request goes to core::Service; the event loops never
// wait for the store. Run() serves until Stop() (or SIGINT/SIGTERM when enabled), then stops
// accepting, lets requests in flight finish and returns. Stop() is thread-safe.
#pragma once

#include <atomic>
#include <functional>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/log_writer.h"
#include "base/status.h"
#include "core/service.h"
#include "http/http_metrics.h"
#include "http/limits.h"

namespace footfall::http {

struct HttpServerOptions {
  // Address to bind: an IPv4/IPv6 literal or "localhost". Default 127.0.0.1.
  std::string host = "127.0.0.1";
  // Port to bind; 0 picks a free one (see port()). Default 8080.
  uint16_t port = 8080;
  // Event-loop threads; 0 (default) means one per core.
  int threads = 0;
  // Connection limits and timeouts.
  HttpLimits limits;
  // Stop on SIGINT/SIGTERM. Default true. The handlers are installed by Create() and stay until
  // the server is destroyed, so signals during Run() or after it are never fatal.
  bool handle_signals = true;
  // Where requests and connections are counted; null (default): nowhere. Must outlive the server.
  HttpMetrics* metrics = nullptr;
  // TLS: PEM files of the certificate chain and its private key. Both empty (default): plain
  // HTTP. With handle_signals, SIGHUP reloads them (new connections get the new certificate;
  // if the new files are unusable the old ones stay).
  std::string tls_certificate_file;
  std::string tls_key_file;
  // Told the outcome of each SIGHUP reload (for logs). Optional.
  std::function<void(const Status&)> on_reload;
};

class HttpServer {
 public:
  // Binds the listening socket (so port() is known before Run()). `request_log` may be null (no
  // request logs). Errors: kInvalidArgument for a bad host or unusable TLS files, kUnavailable if
  // it cannot bind.
  static StatusOr<std::unique_ptr<HttpServer>> Create(HttpServerOptions options,
                                                      core::Service& service, const Clock& clock,
                                                      LogWriter* request_log);
  ~HttpServer();

  // The bound port.
  uint16_t port() const { return port_; }
  // "host:port" as bound, for logs.
  std::string listen_address() const;

  // Serves until stopped; returns once every in-flight request has been answered.
  void Run();
  // Begins a graceful stop. Thread-safe; safe to call more than once.
  void Stop();
  // Re-reads the TLS files (what SIGHUP does). Thread-safe. Errors: as LoadTlsContext; then the
  // old certificate stays. kFailedPrecondition without TLS.
  Status ReloadTls();

 private:
  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  uint16_t port_ = 0;
};

}  // namespace footfall::http
