// FakePostgresServer (tests only): a PostgreSQL stand-in on a free loopback port that fails the
// way real ones do — frozen (SIGSTOP: the kernel still accepts connections, nothing answers), stalled
// mid-session, or no longer reading — after speaking just enough of protocol 3 for libpq to connect
// (trust authentication, TLS and GSS encryption refused) and to get an answer to each statement:
// one row holding "0" for a SELECT, a command tag (the statement's first word) otherwise. Its
// thread serves every connection; destroying it closes them all. The public calls are thread-safe.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"

namespace footfall::store::postgres {

class FakePostgresServer {
 public:
  // How one connection is served.
  enum class Conduct {
    kFrozen,              // accepted, then never read from or written to (a stopped server)
    kSilentAfterStartup,  // libpq connects; every statement after that is read, never answered
    kSilentAfterSetup,    // the first statement (footfall's session setup) is answered, no other
    kDeafAfterSetup,      // the first statement is answered, then nothing more is read at all
    kAnswers,             // every statement is answered
  };

  // Listens on 127.0.0.1, port 0. The n-th connection accepted (from 0) is served as
  // conducts[min(n, size - 1)]. Precondition: conducts is not empty. Errors: kInternal (socket).
  static StatusOr<std::unique_ptr<FakePostgresServer>> Start(std::vector<Conduct> conducts);
  ~FakePostgresServer();
  FakePostgresServer(const FakePostgresServer&) = delete;
  FakePostgresServer& operator=(const FakePostgresServer&) = delete;

  // "postgres://footfall@127.0.0.1:PORT/footfall", plus `query` ("?connect_timeout=0") if given.
  std::string Uri(const std::string& query = "") const;
  // Connections accepted so far.
  int connections() const { return connections_.load(); }

 private:
  FakePostgresServer(int listener, int port, std::vector<Conduct> conducts);
  void Serve();

  const int listener_;
  const int port_;
  const std::vector<Conduct> conducts_;
  std::atomic<int> connections_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace footfall::store::postgres
