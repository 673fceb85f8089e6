// PostgresServer: a real PostgreSQL 15 server for tests, in a temporary data directory on a free
// loopback port, started from /usr/lib/postgresql/15/bin (as the `postgres` user when the tests run
// as root, since PostgreSQL refuses to run as root). The process it started is stopped when the
// object is destroyed, and dies with the test process. Not thread-safe.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "base/status.h"

namespace footfall::testing {

class PostgresServer {
 public:
  // initdb + start, waiting (up to 30 s) until it accepts connections. Errors: kUnavailable with
  // the reason — callers fail the test, never skip.
  static StatusOr<std::unique_ptr<PostgresServer>> Start();
  ~PostgresServer();

  // "postgres://postgres@127.0.0.1:PORT/postgres"
  std::string uri() const;
  int port() const { return port_; }

  // Creates an empty database and returns its URI. Errors: kUnavailable.
  StatusOr<std::string> CreateDatabase(const std::string& name);

  // Stops the server (fast shutdown) and waits for it to exit. For outage tests.
  Status Stop();
  // Starts it again on the same data directory and port, waiting until it accepts connections.
  Status Restart();

 private:
  PostgresServer(std::string data_dir, int port) : data_dir_(std::move(data_dir)), port_(port) {}
  Status Launch();

  std::string data_dir_;
  int port_;
  pid_t pid_ = 0;
};

}  // namespace footfall::testing
