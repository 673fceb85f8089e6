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
  static StatusOr<std::unique_ptr<MotoServer>> Start();
  ~MotoServer();

  // "http://127.0.0.1:PORT"
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }

 private:
  MotoServer(pid_t pid, int port) : pid_(pid), port_(port) {}
  pid_t pid_;
  int port_;
};

}  // namespace footfall::testing
