#include "cli/serve_command.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "base/clock.h"
#include "base/log_writer.h"
#include "base/random.h"
#include "cli/option_values.h"
#include "core/service.h"
#include "http/server.h"
#include "store/blocking.h"
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
                    "Where visits are stored: sqlite:PATH (created if missing) or memory:")
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
  serve->add_option("--max-connections", config.max_connections,
                    "Open connections beyond this are refused")
      ->envname("FOOTFALL_MAX_CONNECTIONS")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  serve->add_option("--stats-token", config.stats_token,
                    "Bearer token GET /api/stats requires (without one, stats are off unless "
                    "--stats-public)")
      ->envname("FOOTFALL_STATS_TOKEN");
  serve->add_option("--stats-public", config.stats_public,
                    "Serve GET /api/stats without a token (true/false)")
      ->envname("FOOTFALL_STATS_PUBLIC")
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
  StatusOr<std::unique_ptr<store::Store>> store = store::OpenStore(config.store);
  if (!store.ok()) {
    std::fprintf(stderr, "footfall: cannot open store %s: %s\n",
                 store::RedactStoreUri(config.store).c_str(),
                 store.status().message().c_str());
    return 1;
  }

  SystemClock clock;
  OsRandom random;
  core::ServiceOptions service_options;
  service_options.allowed_origins = SplitList(config.allowed_origins);
  service_options.trusted_proxies = SplitList(config.trusted_proxies);
  service_options.default_site = config.default_site;
  service_options.retention_days = config.retention_days;
  service_options.stats_token = config.stats_token;
  service_options.stats_public = config.stats_public;
  StatusOr<std::unique_ptr<core::Service>> service =
      core::Service::Create(service_options, **store, clock, random);
  if (!service.ok()) {
    std::fprintf(stderr, "footfall: %s\n", service.status().message().c_str());
    return 2;
  }

  http::HttpServerOptions server_options;
  server_options.host = listen->host;
  server_options.port = listen->port;
  server_options.threads = config.threads;
  server_options.limits.max_connections = config.max_connections;
  StatusOr<std::unique_ptr<http::HttpServer>> server = http::HttpServer::Create(
      server_options, **service, clock, config.log_requests ? &log : nullptr);
  if (!server.ok()) {
    std::fprintf(stderr, "footfall: %s\n", server.status().message().c_str());
    return 1;
  }

  nlohmann::ordered_json started = {{"level", "info"},
                            {"msg", "listening"},
                            {"listen", (*server)->listen_address()},
                            {"store", (*store)->Describe()},
                            {"allowed_origins", (*service)->cors().origins()},
                            {"default_site", (*service)->default_site()}};
  log.Write(started.dump());
  if ((*service)->cors().origins().empty()) {
    log.Write(R"({"level":"warn","msg":"no allowed origins: browsers on other sites will get 403 from /count; set --allowed-origins or FOOTFALL_ALLOWED_ORIGINS"})");
  }
  log.Flush();

  // Retention that runs: prune expired raw visits now and every hour while serving.
  std::mutex prune_mu;
  std::condition_variable prune_wake;
  bool prune_stop = false;
  std::thread pruner([&] {
    std::unique_lock lock(prune_mu);
    do {
      lock.unlock();
      const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                              clock.Now().time_since_epoch()).count();
      StatusOr<int64_t> deleted = store::Wait<int64_t>([&](store::Callback<int64_t> done) {
        (*store)->PruneExpired(now, store::kNoDeadline, std::move(done));
      });
      nlohmann::ordered_json line = {{"level", deleted.ok() ? "info" : "warn"}, {"msg", "prune"}};
      if (deleted.ok()) {
        line["deleted"] = *deleted;
      } else {
        line["error"] = deleted.status().ToString();
      }
      if (!deleted.ok() || *deleted > 0) log.Write(line.dump());
      lock.lock();
    } while (!prune_wake.wait_for(lock, std::chrono::hours(1), [&] { return prune_stop; }));
  });

  (*server)->Run();  // returns when every session has closed
  {
    std::lock_guard lock(prune_mu);
    prune_stop = true;
  }
  prune_wake.notify_one();
  pruner.join();
  service->reset();
  store->reset();    // commits whatever was still queued
  // Destroyed last: its signal handlers keep a second SIGTERM from killing the final commit.
  server->reset();
  log.Write(R"({"level":"info","msg":"stopped"})");
  log.Flush();
  return 0;
}

}  // namespace footfall::cli
