// MotoServer: starts moto's real server application (the DynamoDB-API server from the moto package,
// made atomic per request: tests/tools/moto_server_atomic.py) on a free loopback port for tests,
// and stops the process it started when destroyed. Not thread-safe.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "base/status.h"

namespace footfall::testing {

class MotoServer {
 public:
  // Starts moto_server and waits (up to 20 s) until it answers HTTP. Errors: kUnavailable with
  // the reason (not installed, exited, never answered) — callers fail the test, never skip.
  // With `tls_cert`/`tls_key` (PEM files) it serves HTTPS.
  static StatusOr<std::unique_ptr<MotoServer>> Start(const std::string& tls_cert = "",
                                                     const std::string& tls_key = "");
  ~MotoServer();

  // "http://127.0.0.1:PORT" (https with TLS)
  std::string endpoint() const {
    return (tls_ ? "https" : "http") + std::string("://127.0.0.1:") + std::to_string(port_);
  }
  int port() const { return port_; }

 private:
  MotoServer(pid_t pid, int port, bool tls) : pid_(pid), port_(port), tls_(tls) {}
  pid_t pid_;
  int port_;
  bool tls_;
};

}  // namespace footfall::testing
