#include "http/server.h"

#include <utility>  // Boost 1.74 Asio needs it in C++20

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <atomic>
#include <csignal>
#include <mutex>

#include "base/callback_home.h"
#include "base/loop_guard.h"
#include "base/random.h"
#include "base/thread_name.h"
#include "http/listener.h"
#include "http/tls.h"

namespace footfall::http {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// An event loop as a CallbackHome: callbacks posted from other threads are collected and run by
// one handler, so a committed batch of many visits costs each event loop one wake-up.
class EventLoopHome final : public CallbackHome {
 public:
  explicit EventLoopHome(asio::io_context& context) : context_(context) {}

  void Post(std::function<void()> callback) override {
    bool schedule = false;
    {
      std::lock_guard lock(mu_);
      pending_.push_back(std::move(callback));
      schedule = !scheduled_;
      scheduled_ = true;
    }
    if (schedule) asio::post(context_, [this] { RunPending(); });
  }

 private:
  void RunPending() {
    std::vector<std::function<void()>> ready;
    {
      std::lock_guard lock(mu_);
      ready.swap(pending_);
      scheduled_ = false;
    }
    for (auto& callback : ready) callback();
  }

  asio::io_context& context_;
  std::mutex mu_;
  std::vector<std::function<void()>> pending_;  // guarded by mu_
  bool scheduled_ = false;                      // guarded by mu_: RunPending is posted
};

// Runs `context` with `home` as this thread's CallbackHome.
void RunAtHome(asio::io_context& context, EventLoopHome& home) {
  CallbackHome* previous = CallbackHome::SetForThisThread(&home);
  RunGuarded(context, "http");
  CallbackHome::SetForThisThread(previous);
}

}  // namespace

struct HttpServer::Impl {
  Impl(HttpServerOptions opts, core::Service& service, const Clock& clock, LogWriter* log)
      : options(std::move(opts)),
        session_context{service, options.limits, clock, log, stopping,
                        [this] { return NextRequestId(); }, registry, options.metrics, nullptr} {
    uint8_t prefix[4];
    OsRandom().Fill(prefix);
    static constexpr char kHex[] = "0123456789abcdef";
    for (uint8_t byte : prefix) {
      request_id_prefix.push_back(kHex[byte >> 4]);
      request_id_prefix.push_back(kHex[byte & 0xf]);
    }
    request_id_prefix.push_back('-');
  }

  std::string NextRequestId() {
    return request_id_prefix + std::to_string(request_counter.fetch_add(1) + 1);
  }

  void BeginStop() {
    if (stopping.exchange(true)) return;
    if (listener) listener->Stop();
    // Idle event loops may now end; busy ones end when their last session closes.
    for (auto& guard : idle_guards) guard.reset();
    registry.StopAllWhenIdle();
    if (signals) {
      asio::post(*contexts.front(), [this] {
        boost::system::error_code ignored;
        signals->cancel(ignored);
      });
    }
  }

  HttpServerOptions options;
  std::atomic<bool> stopping{false};
  std::atomic<uint64_t> request_counter{0};
  std::string request_id_prefix;
  SessionRegistry registry;
  SessionContext session_context;
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<std::unique_ptr<EventLoopHome>> homes;  // one per context, same index
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> idle_guards;
  std::shared_ptr<Listener> listener;
  std::unique_ptr<asio::signal_set> signals;
  std::mutex tls_mu;
  std::shared_ptr<asio::ssl::context> tls;  // guarded by tls_mu; null without TLS

  void WaitForSignal() {
    signals->async_wait([this](boost::system::error_code error, int signal) {
      if (error) return;
      if (signal != SIGHUP) return BeginStop();
      Status reloaded = options.tls_certificate_file.empty()
                            ? FailedPreconditionError("SIGHUP: no TLS files to reload")
                            : Reload();
      if (options.on_reload) options.on_reload(reloaded);
      WaitForSignal();
    });
  }

  Status Reload() {
    ASSIGN_OR_RETURN(std::shared_ptr<asio::ssl::context> fresh,
                     LoadTlsContext(options.tls_certificate_file, options.tls_key_file));
    std::lock_guard lock(tls_mu);
    tls = std::move(fresh);
    return OkStatus();
  }
};

StatusOr<std::unique_ptr<HttpServer>> HttpServer::Create(HttpServerOptions options,
                                                         core::Service& service,
                                                         const Clock& clock,
                                                         LogWriter* request_log) {
  boost::system::error_code error;
  const std::string host = options.host == "localhost" ? "127.0.0.1" : options.host;
  const asio::ip::address address = asio::ip::make_address(host, error);
  if (error) return InvalidArgumentError("'" + options.host + "' is not an IP address");
  int threads = options.threads;
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));

  auto impl = std::make_unique<Impl>(std::move(options), service, clock, request_log);
  for (int i = 0; i < threads; ++i) {
    impl->contexts.push_back(std::make_unique<asio::io_context>(1));
    impl->homes.push_back(std::make_unique<EventLoopHome>(*impl->contexts.back()));
    impl->idle_guards.push_back(asio::make_work_guard(*impl->contexts.back()));
  }
  if (impl->options.tls_certificate_file.empty() != impl->options.tls_key_file.empty()) {
    return InvalidArgumentError("TLS needs both a certificate file and a key file");
  }
  if (!impl->options.tls_certificate_file.empty()) {
    RETURN_IF_ERROR(impl->Reload());
    impl->session_context.tls = [raw = impl.get()] {
      std::lock_guard lock(raw->tls_mu);
      return raw->tls;
    };
  }
  ASSIGN_OR_RETURN(impl->listener,
                   Listener::Create(impl->contexts, tcp::endpoint(address, impl->options.port),
                                    impl->session_context, impl->registry));
  if (impl->options.handle_signals) {
    // Registered now, before anyone can learn the port: a SIGTERM that arrives before Run() is
    // held and then handled as a graceful stop, never the default "terminate".
    // SIGHUP reloads the TLS files (and never terminates, even without TLS).
    impl->signals =
        std::make_unique<asio::signal_set>(*impl->contexts.front(), SIGINT, SIGTERM, SIGHUP);
  }
  const uint16_t port = impl->listener->local_endpoint().port();
  std::unique_ptr<HttpServer> server(new HttpServer(std::move(impl)));
  server->port_ = port;
  return server;
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() = default;

std::string HttpServer::listen_address() const {
  const auto endpoint = impl_->listener->local_endpoint();
  const std::string host = endpoint.address().to_string();
  return (endpoint.address().is_v6() ? "[" + host + "]" : host) + ":" + std::to_string(port_);
}

void HttpServer::Run() {
  Impl& impl = *impl_;
  if (impl.signals) impl.WaitForSignal();
  impl.listener->Start();
  if (impl.stopping.load()) impl.listener->Stop();  // Stop() came before Run()
  // Each io_context runs until it has no more work: no listener, no session, no request waiting
  // on the store. That is the graceful drain.
  std::vector<std::thread> threads;
  for (size_t i = 1; i < impl.contexts.size(); ++i) {
    threads.emplace_back([&impl, i] {
      NameThisThread("ff-http-" + std::to_string(i));  // loop 0 is the calling (main) thread
      RunAtHome(*impl.contexts[i], *impl.homes[i]);
    });
  }
  RunAtHome(*impl.contexts.front(), *impl.homes.front());
  for (auto& thread : threads) thread.join();
}

void HttpServer::Stop() { impl_->BeginStop(); }

Status HttpServer::ReloadTls() {
  if (impl_->options.tls_certificate_file.empty()) {
    return FailedPreconditionError("the server has no TLS");
  }
  return impl_->Reload();
}

}  // namespace footfall::http
