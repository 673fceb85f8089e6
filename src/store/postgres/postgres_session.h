// Session: one PostgreSQL connection that reconnects itself, and runs statements on it with
// deadlines. libpq is used non-blocking throughout, so a server that stops answering, or stops
// reading, costs a call its deadline and no more: connecting (and setting up the session) ends
// within connect_timeout, each statement within its timeout; then the connection is dropped and the
// call fails. One exception: a host *name* is looked up synchronously by libpq (getaddrinfo),
// bounded by the resolver's own timeouts. Not thread-safe: one thread at a time uses a Session.
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace footfall::store::postgres {

// The longest wait for PostgreSQL's answer to a statement — or to a whole batch transaction —
// before the connection is dropped: past the server's statement_timeout (5 s, set on every
// connection), within a request's budget (10 s).
inline constexpr std::chrono::milliseconds kAnswerTimeout{6000};

// Waits as long as PostgreSQL works on the statement (migrations: an index on a big table).
inline constexpr std::chrono::milliseconds kNoAnswerTimeout = std::chrono::milliseconds::max();

struct ResultDeleter {
  void operator()(PGresult* result) const;
};
// A statement's result; frees it when dropped.
using Result = std::unique_ptr<PGresult, ResultDeleter>;

struct SessionOptions {
  // libpq connection URI or string. Required. Its connect_timeout (seconds; as in libpq, 1 means
  // 2) bounds each connection attempt as a whole: every host of the URI, TLS, authentication and
  // the session's setup.
  std::string uri;
  // Least time from the end of one connection attempt to the next while the database is down, so
  // that a down database costs a fast failure, not a connection storm. 0: try on every call.
  // Default 250 ms.
  std::chrono::milliseconds reconnect_interval{250};
  // The connect deadline when the URI sets no positive connect_timeout (libpq would then wait
  // forever). Default 2 s.
  std::chrono::milliseconds connect_timeout{2000};
};

class Session {
 public:
  explicit Session(SessionOptions options);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Opens the connection unless one is open and usable, and sets statement_timeout = 5 s on it.
  // An idle connection the server closed (a restart, idle_session_timeout) is replaced first.
  // Errors: kUnavailable — cannot connect (the message says why; no answer within the connect
  // deadline), or the last attempt was less than reconnect_interval ago, or the connection was lost
  // inside a transaction (Begin) — never reconnected there: the next statements would run outside
  // it.
  Status Connect();

  // Runs one statement with text parameters, waiting at most `timeout` for PostgreSQL to take it
  // and answer (the server's statement_timeout cannot help when the server itself stops answering).
  // Connects first if needed (see Connect). On a client-side timeout the connection is dropped:
  // its state is unknown. Returns the statement's last result (COMMAND_OK or TUPLES_OK).
  // Errors: as PostgresError, kUnavailable (as Connect), kDeadlineExceeded on timeout.
  StatusOr<Result> Exec(const char* sql, const std::vector<std::string>& params,
                        std::string_view what, std::chrono::milliseconds timeout = kAnswerTimeout);

  // Runs a script of several statements without parameters (simple query protocol, so that
  // "BEGIN; ...; COMMIT;" is one round trip and one transaction). Otherwise as Exec.
  StatusOr<Result> ExecScript(const std::string& sql, std::string_view what,
                              std::chrono::milliseconds timeout);

  // Starts a transaction: until Commit or Rollback, statements run on this connection or fail.
  // Errors: as Exec.
  Status Begin();

  // Commits the transaction, waiting at most `timeout`. Errors: as Exec; kInternal if
  // PostgreSQL rolled it back instead.
  Status Commit(std::chrono::milliseconds timeout);

  // Ends a failed transaction. (On a lost connection the server has rolled it back already.)
  void Rollback();

 private:
  struct ConnectionCloser {
    void operator()(PGconn* conn) const;
  };
  using Connection = std::unique_ptr<PGconn, ConnectionCloser>;
  enum class Send { kStatement, kScript };

  // Opens a new connection and sets it up, or fails (kUnavailable), within the connect deadline.
  Status Open();
  // Sends `sql` on conn_ (as `send`), flushes it and reads every result by `deadline`.
  StatusOr<Result> Run(Send send, const char* sql, const std::vector<std::string>& params,
                       std::string_view what, std::chrono::steady_clock::time_point deadline,
                       std::chrono::milliseconds timeout);

  const SessionOptions options_;
  Connection conn_;
  bool in_transaction_ = false;                           // between Begin and Commit/Rollback
  std::chrono::steady_clock::time_point last_attempt_{};  // when the last attempt ended
  std::string last_error_;
};

// The one mapping from PostgreSQL errors (SQLSTATE) to Status codes: `what` failed on `conn`,
// with `result` (nullptr: the error is the connection's).
Status PostgresError(const PGconn* conn, const PGresult* result, std::string_view what);

// libpq's messages span lines ("...failed: Connection refused\n\tIs the server running...");
// footfall's errors and logs are one line each.
std::string OneLine(std::string_view text);

}  // namespace footfall::store::postgres
