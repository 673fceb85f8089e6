#include "cli/serve_command.h"

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <thread>

#include "base/clock.h"
#include "base/log_writer.h"
#include "base/loop_guard.h"
#include "base/random.h"
#include "base/thread_name.h"
#include "cli/maintenance.h"
#include "cli/option_values.h"
#include "cli/serve_metrics.h"
#include "core/service.h"
#include "core/user_agent.h"
#include "http/server.h"
#include "store/blocking.h"
#include "store/drift.h"
#include "store/open_store.h"

namespace footfall::cli {

CLI::App* AddServeCommand(CLI::App& app, ServeConfig& config) {
  CLI::App* serve = app.add_subcommand(
      "serve", "Serve the counter API over HTTP (default store: SQLite in ./data).");
  // The seed's variable, honoured when FOOTFALL_ALLOWED_ORIGINS and the flag are absent.
  if (const char* seed_origin = std::getenv("ALLOWED_ORIGIN")) config.allowed_origins = seed_origin;

  serve->add_option("--listen", config.listen, "Address to listen on, host:port (port 0: any free)")
      ->envname("FOOTFALL_LISTEN")
      ->capture_default_str();
  serve->add_option("--store", config.store,
                    kStoreOptionHelp)
      ->envname("FOOTFALL_STORE")
      ->capture_default_str();
  serve->add_option("--allowed-origins", config.allowed_origins,
                    "Comma-separated origins whose pages may count and read, e.g. "
                    "https://me.example; '*' allows any (also read from ALLOWED_ORIGIN)")
      ->envname("FOOTFALL_ALLOWED_ORIGINS");
  serve->add_option("--trusted-proxies", config.trusted_proxies,
                    "Comma-separated CIDRs of reverse proxies whose X-Forwarded-For is believed "
                    "(default: none, the socket peer is the client)")
      ->envname("FOOTFALL_TRUSTED_PROXIES");
  serve->add_option("--default-site", config.default_site,
                    "Site recorded for visits without an Origin header (default: host of the "
                    "first allowed origin, else localhost)")
      ->envname("FOOTFALL_DEFAULT_SITE");
  serve->add_option("--retention-days", config.retention_days,
                    "Days a visit is kept (sets its expiration_time)")
      ->envname("FOOTFALL_RETENTION_DAYS")
      ->check(CLI::Range(1, 36500))
      ->capture_default_str();
  serve->add_option("--threads", config.threads, "Event-loop threads (0: one per core)")
      ->envname("FOOTFALL_THREADS")
      ->check(CLI::Range(0, 256))
      ->capture_default_str();
  // HTTP limits: docs/operations.md "Limits" says what crossing each one answers.
  serve->add_option("--max-connections", config.max_connections,
                    "Open connections beyond this are accepted and closed at once")
      ->envname("FOOTFALL_MAX_CONNECTIONS")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  serve->add_option("--max-header-bytes", config.max_header_bytes,
                    "Largest request line plus headers; larger: 431")
      ->envname("FOOTFALL_MAX_HEADER_BYTES")
      ->check(CLI::Range(512, 1024 * 1024))
      ->capture_default_str();
  serve->add_option("--max-body-bytes", config.max_body_bytes,
                    "Largest request body; larger: 413")
      ->envname("FOOTFALL_MAX_BODY_BYTES")
      ->check(CLI::Range(0, 16 * 1024 * 1024))
      ->capture_default_str();
  serve->add_option("--read-timeout-ms", config.read_timeout_ms,
                    "Time to receive a whole request from its first byte; slower: 408 and close")
      ->envname("FOOTFALL_READ_TIMEOUT_MS")
      ->check(CLI::Range(int64_t{1}, int64_t{3600000}))
      ->capture_default_str();
  serve->add_option("--idle-timeout-ms", config.idle_timeout_ms,
                    "Time a connection may wait for its next request; longer: closed")
      ->envname("FOOTFALL_IDLE_TIMEOUT_MS")
      ->check(CLI::Range(int64_t{1}, int64_t{3600000}))
      ->capture_default_str();
  serve->add_option("--write-timeout-ms", config.write_timeout_ms,
                    "Time to send one response; longer: closed")
      ->envname("FOOTFALL_WRITE_TIMEOUT_MS")
      ->check(CLI::Range(int64_t{1}, int64_t{3600000}))
      ->capture_default_str();
  serve->add_option("--max-requests-per-connection", config.max_requests_per_connection,
                    "Requests answered on one connection; the last answer closes it")
      ->envname("FOOTFALL_MAX_REQUESTS_PER_CONNECTION")
      ->check(CLI::Range(1, 100000000))
      ->capture_default_str();
  serve->add_option("--max-pipelined-requests", config.max_pipelined_requests,
                    "Pipelined requests answered in a row on one connection; the last answer "
                    "closes it and the rest is dropped")
      ->envname("FOOTFALL_MAX_PIPELINED_REQUESTS")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  serve->add_option("--stats-token", config.stats_token,
                    "Bearer token GET /api/stats requires (without one, stats are off unless "
                    "--stats-public)")
      ->envname("FOOTFALL_STATS_TOKEN");
  serve->add_option("--stats-public", config.stats_public,
                    "Serve GET /api/stats without a token (true/false)")
      ->envname("FOOTFALL_STATS_PUBLIC")
      ->capture_default_str();
  serve->add_option("--drop-http-libraries", config.drop_http_libraries,
                    "Do not record requests from HTTP libraries (curl, python-requests...) or "
                    "without a User-Agent; by default they count as device non_browser (true/false)")
      ->envname("FOOTFALL_DROP_HTTP_LIBRARIES")
      ->capture_default_str();
  AddAnalyticsOptions(*serve, config.analytics);
  serve->add_option("--tls-cert", config.tls_cert,
                    "Serve HTTPS (TLS 1.2+) with this PEM certificate chain (needs --tls-key); "
                    "SIGHUP reloads both files")
      ->envname("FOOTFALL_TLS_CERT");
  serve->add_option("--tls-key", config.tls_key, "The PEM private key of --tls-cert")
      ->envname("FOOTFALL_TLS_KEY");
  serve->add_option("--metrics-listen", config.metrics_listen,
                    "Serve GET /metrics (Prometheus) on this separate host:port, without a token "
                    "(default: on the main listener, behind the stats token)")
      ->envname("FOOTFALL_METRICS_LISTEN");
  serve->add_option("--metrics-public", config.metrics_public,
                    "Serve GET /metrics on the main listener without a token (true/false)")
      ->envname("FOOTFALL_METRICS_PUBLIC")
      ->capture_default_str();
  serve->add_option("--rate-limit-visitor", config.rate_limit_visitor,
                    "Requests per minute one visitor (client address) may make; over it: 429 "
                    "(0: no limit)")
      ->envname("FOOTFALL_RATE_LIMIT_VISITOR")
      ->check(CLI::Range(0.0, 1e9))
      ->capture_default_str();
  serve->add_option("--rate-limit-global", config.rate_limit_global,
                    "Requests per second from everyone together; over it: 429 (0: no limit)")
      ->envname("FOOTFALL_RATE_LIMIT_GLOBAL")
      ->check(CLI::Range(0.0, 1e9))
      ->capture_default_str();
  serve->add_option("--rate-limit-max-visitors", config.rate_limit_max_visitors,
                    "Most visitors the rate limiter remembers (least recently seen forgotten first)")
      ->envname("FOOTFALL_RATE_LIMIT_MAX_VISITORS")
      ->check(CLI::Range(16, 100000000))
      ->capture_default_str();
  serve->add_option("--log-requests", config.log_requests,
                    "Write one JSON line per request to stderr (true/false)")
      ->envname("FOOTFALL_LOG_REQUESTS")
      ->capture_default_str();
  return serve;
}

int RunServe(const ServeConfig& config) {
  StatusOr<HostPort> listen = ParseHostPort(config.listen);
  if (!listen.ok()) {
    std::fprintf(stderr, "footfall: --listen: %s\n", listen.status().message().c_str());
    return 2;
  }

  LogWriter log(2);
  // The crawler list's RE2::Set (milliseconds of CPU: docs/benchmarks.md) is built beside the
  // store's opening, so that the first visit does not wait for it.
  std::jthread bot_matcher_build([] { core::DefaultBotMatcher(); });
  StatusOr<std::unique_ptr<store::Store>> store = store::OpenStore(config.store);
  if (!store.ok()) {
    std::fprintf(stderr, "footfall: cannot open store %s: %s\n",
                 store::RedactStoreUri(config.store).c_str(),
                 store.status().message().c_str());
    return 1;
  }

  std::optional<HostPort> metrics_listen;
  if (!config.metrics_listen.empty()) {
    StatusOr<HostPort> parsed = ParseHostPort(config.metrics_listen);
    if (!parsed.ok()) {
      std::fprintf(stderr, "footfall: --metrics-listen: %s\n", parsed.status().message().c_str());
      return 2;
    }
    metrics_listen = *parsed;
  }
  StatusOr<std::unique_ptr<ServeMetrics>> metrics = ServeMetrics::Create(**store);
  if (!metrics.ok()) {
    std::fprintf(stderr, "footfall: metrics: %s\n", metrics.status().ToString().c_str());
    return 1;
  }
  store::InstrumentedStore& measured_store = (*metrics)->store();
  // An outage is two lines, when it starts and when it ends; the 503s in between are in the
  // request log and footfall_store_operations_total{result="error"}.
  std::atomic<int64_t> unavailable_since_ms{0};
  measured_store.SetReadinessListener([&log, &unavailable_since_ms](bool ready,
                                                                    const Status& cause) {
    const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::steady_clock::now().time_since_epoch())
                               .count();
    nlohmann::ordered_json line;
    if (ready) {
      line = {{"level", "info"}, {"msg", "store available again"},
              {"unavailable_ms", now_ms - unavailable_since_ms.load()}};
    } else {
      unavailable_since_ms = now_ms;
      line = {{"level", "warn"}, {"msg", "store unavailable"}, {"error", cause.ToString()}};
    }
    log.Write(line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  });
  const auto metrics_text = [&metrics] { return (*metrics)->Render(); };

  SystemClock clock;
  OsRandom random;
  core::ServiceOptions service_options;
  service_options.allowed_origins = SplitList(config.allowed_origins);
  service_options.trusted_proxies = SplitList(config.trusted_proxies);
  service_options.default_site = config.default_site;
  service_options.retention_days = config.retention_days;
  service_options.stats_token = config.stats_token;
  service_options.stats_public = config.stats_public;
  service_options.drop_http_libraries = config.drop_http_libraries;
  if (Status applied = ApplyAnalyticsOptions(config.analytics, service_options); !applied.ok()) {
    std::fprintf(stderr, "footfall: %s\n", applied.message().c_str());
    return 2;
  }
  service_options.metrics_public = config.metrics_public;
  service_options.rate_limit = {.visitor_per_minute = config.rate_limit_visitor,
                                .global_per_second = config.rate_limit_global,
                                .max_visitors = config.rate_limit_max_visitors};
  if (!metrics_listen) service_options.metrics_text = metrics_text;
  service_options.on_drop = [&metrics](std::string_view reason) { (*metrics)->CountDrop(reason); };
  service_options.on_visit = [&metrics] { (*metrics)->CountVisit(); };
  StatusOr<std::unique_ptr<core::Service>> service =
      core::Service::Create(service_options, measured_store, clock, random);
  if (!service.ok()) {
    std::fprintf(stderr, "footfall: %s\n", service.status().message().c_str());
    return 2;
  }

  (*metrics)->registry()
      .AddGaugeCallback("footfall_rate_limiter_buckets", "Visitor buckets the rate limiter holds.",
                        [&service] { return static_cast<double>((*service)->rate_limiter_size()); })
      .IgnoreError();  // registered once per process
  (*metrics)->registry()
      .AddCounterCallback("footfall_escaped_exceptions_total",
                          "Exceptions caught at an event loop or store thread boundary (bugs: "
                          "each is also one stderr line per loop and minute).",
                          [] { return static_cast<double>(EscapedExceptions()); })
      .IgnoreError();  // registered once per process
  for (store::DriftKind kind : {store::DriftKind::kTotalAhead, store::DriftKind::kAggregatesShort}) {
    (*metrics)->registry()
        .AddCounterCallback(std::string("footfall_store_drift_") + store::DriftKindName(kind) +
                                "_visits_total",
                            "Visits whose store records stopped agreeing and could not be "
                            "repaired (each also a `drift` line on stderr naming the visit ids).",
                            [kind] { return static_cast<double>(store::DriftCount(kind)); })
        .IgnoreError();  // registered once per process
  }

  http::HttpServerOptions server_options;
  server_options.host = listen->host;
  server_options.port = listen->port;
  server_options.threads = config.threads;
  server_options.limits = {
      .max_header_bytes = config.max_header_bytes,
      .max_body_bytes = config.max_body_bytes,
      .read_timeout = std::chrono::milliseconds(config.read_timeout_ms),
      .idle_timeout = std::chrono::milliseconds(config.idle_timeout_ms),
      .write_timeout = std::chrono::milliseconds(config.write_timeout_ms),
      .max_connections = config.max_connections,
      .max_requests_per_connection = config.max_requests_per_connection,
      .max_pipelined_requests = config.max_pipelined_requests};
  server_options.metrics = (*metrics)->http();
  server_options.tls_certificate_file = config.tls_cert;
  server_options.tls_key_file = config.tls_key;
  server_options.on_reload = [&log](const Status& status) {
    nlohmann::ordered_json line = {{"level", status.ok() ? "info" : "error"},
                                   {"msg", status.ok() ? "tls reloaded" : "reload failed"}};
    if (!status.ok()) line["error"] = status.message();
    log.Write(line.dump());
  };
  StatusOr<std::unique_ptr<http::HttpServer>> server = http::HttpServer::Create(
      server_options, **service, clock, config.log_requests ? &log : nullptr);
  if (!server.ok()) {
    std::fprintf(stderr, "footfall: %s\n", server.status().message().c_str());
    return 1;
  }

  // The separate metrics listener: a second, small server whose service answers only /metrics.
  std::unique_ptr<core::Service> metrics_service;
  std::unique_ptr<http::HttpServer> metrics_server;
  std::thread metrics_thread;
  if (metrics_listen) {
    core::ServiceOptions only_metrics;
    only_metrics.metrics_text = metrics_text;
    only_metrics.metrics_public = true;
    only_metrics.metrics_only = true;
    metrics_service = *core::Service::Create(only_metrics, measured_store, clock, random);
    http::HttpServerOptions metrics_options;
    metrics_options.host = metrics_listen->host;
    metrics_options.port = metrics_listen->port;
    metrics_options.threads = 1;
    metrics_options.limits.max_connections = 64;
    metrics_options.handle_signals = false;
    StatusOr<std::unique_ptr<http::HttpServer>> created =
        http::HttpServer::Create(metrics_options, *metrics_service, clock, nullptr);
    if (!created.ok()) {
      std::fprintf(stderr, "footfall: --metrics-listen: %s\n", created.status().message().c_str());
      return 1;
    }
    metrics_server = *std::move(created);
    metrics_thread = std::thread([&metrics_server] {
      NameThisThread("ff-metrics");
      metrics_server->Run();
    });
  }

  nlohmann::ordered_json started = {{"level", "info"},
                            {"msg", "listening"},
                            {"listen", (*server)->listen_address()},
                            {"tls", !config.tls_cert.empty()},
                            {"store", (*store)->Describe()},
                            {"metrics", metrics_server ? metrics_server->listen_address() + "/metrics"
                                                       : std::string("/metrics (stats token)")},
                            {"allowed_origins", (*service)->cors().origins()},
                            {"default_site", (*service)->default_site()}};
  log.Write(started.dump());
  if ((*service)->cors().origins().empty()) {
    log.Write(R"({"level":"warn","msg":"no allowed origins: browsers on other sites will get 403 from /count; set --allowed-origins or FOOTFALL_ALLOWED_ORIGINS"})");
  }
  log.Flush();

  // Maintenance while serving, whatever the traffic: a readiness probe every 5 s that keeps
  // footfall_store_ready current, and Service::Maintain (old salts deleted, expired raw visits
  // pruned) at start-up, every hour, and 30 s after each UTC midnight, so that a salt never
  // outlives its 48 hours by more than that; a failed run is retried a minute later.
  std::mutex maintenance_mu;
  std::condition_variable maintenance_wake;
  bool maintenance_stop = false;
  std::thread maintainer([&] {
    NameThisThread("ff-maintenance");
    std::unique_lock lock(maintenance_mu);
    auto next_run = std::chrono::steady_clock::now();
    do {
      lock.unlock();
      store::CheckReadyAndWait(measured_store, std::chrono::steady_clock::now() + std::chrono::seconds(4))
          .IgnoreError();  // the outcome is in the metrics
      if (std::chrono::steady_clock::now() >= next_run) {
        const core::MaintenanceReport report = RunMaintenanceAndWait(**service);
        const bool failed = !report.salts_deleted.ok() || !report.visits_pruned.ok();
        if (failed || *report.salts_deleted > 0 || *report.visits_pruned > 0) {
          log.Write(MaintenanceLine(report));
        }
        next_run = std::chrono::steady_clock::now() +
                   (failed ? std::chrono::minutes(1) : UntilNextMaintenance(clock.Now()));
      }
      lock.lock();
    } while (!maintenance_wake.wait_for(lock, std::chrono::seconds(5),
                                        [&] { return maintenance_stop; }));
  });

  (*server)->Run();  // returns when every session has closed
  {
    std::lock_guard lock(maintenance_mu);
    maintenance_stop = true;
  }
  maintenance_wake.notify_one();
  maintainer.join();
  if (metrics_server) {
    metrics_server->Stop();
    metrics_thread.join();
    metrics_server.reset();
    metrics_service.reset();
  }
  service->reset();
  store->reset();    // commits whatever was still queued
  // Destroyed last: its signal handlers keep a second SIGTERM from killing the final commit.
  server->reset();
  log.Write(R"({"level":"info","msg":"stopped"})");
  log.Flush();
  return 0;
}

}  // namespace footfall::cli
