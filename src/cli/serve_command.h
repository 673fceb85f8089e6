// `footfall serve`: the self-hosted HTTP server. Registers its options (each with an environment
// variable) on a CLI11 app and runs the server. Not thread-safe; called once from main.
#pragma once

#include <CLI/CLI.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

#include "cli/analytics_options.h"

namespace footfall::cli {

struct ServeConfig {
  std::string listen = "127.0.0.1:8080";
  std::string store = "sqlite:data/footfall.db";
  std::string allowed_origins;  // comma-separated
  std::string trusted_proxies;  // comma-separated CIDRs
  std::string default_site;
  int retention_days = 90;
  int threads = 0;
  // HTTP limits (http::HttpLimits; defaults kept equal to its own).
  size_t max_connections = 10000;
  size_t max_header_bytes = 8 * 1024;
  size_t max_body_bytes = 16 * 1024;
  int64_t read_timeout_ms = 10000;
  int64_t idle_timeout_ms = 5000;
  int64_t write_timeout_ms = 10000;
  size_t max_requests_per_connection = 100000;
  size_t max_pipelined_requests = 16;
  bool log_requests = true;
  std::string stats_token;      // FOOTFALL_STATS_TOKEN
  bool stats_public = false;
  bool drop_http_libraries = false;
  AnalyticsConfig analytics;
  std::string tls_cert;         // PEM certificate chain; with tls_key: HTTPS
  std::string tls_key;
  std::string metrics_listen;   // "" = /metrics on the main listener (behind the stats token)
  bool metrics_public = false;
  double rate_limit_visitor = 120;   // requests per minute per visitor; 0 = off
  double rate_limit_global = 5000;   // requests per second overall; 0 = off
  size_t rate_limit_max_visitors = 100000;
};

// Adds the `serve` subcommand to `app`; `config` receives the parsed values.
CLI::App* AddServeCommand(CLI::App& app, ServeConfig& config);

// Runs the server until SIGINT/SIGTERM. Returns the process exit code (0 after a clean stop).
int RunServe(const ServeConfig& config);

}  // namespace footfall::cli
