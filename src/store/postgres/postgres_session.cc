#include "store/postgres/postgres_session.h"

#include <poll.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <utility>

#include "store/postgres/libpq_loader.h"

namespace footfall::store::postgres {
namespace {

using SteadyClock = std::chrono::steady_clock;

// When a wait of `timeout` that starts now ends; kNoAnswerTimeout (or anything near it) never.
SteadyClock::time_point DeadlineAfter(std::chrono::milliseconds timeout) {
  if (timeout >= std::chrono::hours(24 * 365)) return SteadyClock::time_point::max();
  return SteadyClock::now() + timeout;
}

// Waits until `socket` is ready for `events` or `deadline` passes. Returns poll's revents (which
// may hold POLLERR/POLLHUP: the next libpq call reads the error), 0 once the deadline has passed,
// -1 if poll fails (errno).
int WaitForSocket(int socket, short events, SteadyClock::time_point deadline) {
  if (socket < 0) {
    errno = EBADF;
    return -1;
  }
  while (true) {
    const auto now = SteadyClock::now();
    if (now >= deadline) return 0;
    // Rounded up, so that the last wait before the deadline is not a busy loop of 0 ms polls.
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - now);
    pollfd descriptor{socket, events, 0};
    const int ready =
        ::poll(&descriptor, 1, static_cast<int>(std::min<int64_t>(left.count(), 60'000)));
    if (ready > 0) return descriptor.revents;
    if (ready < 0 && errno != EINTR) return -1;
  }
}

// True if `socket` has bytes or an EOF waiting (checked without blocking).
bool HasUnsolicitedInput(int socket) {
  if (socket < 0) return true;
  pollfd descriptor{socket, POLLIN, 0};
  return ::poll(&descriptor, 1, 0) != 0;
}

// The connect deadline of `conn`: its connect_timeout as libpq reads it (URI, environment or
// service file), or `fallback` where that is unset or not positive (libpq: wait forever).
std::chrono::milliseconds ConnectTimeout(PGconn* conn, std::chrono::milliseconds fallback) {
  const LibpqFunctions& pq = Libpq();
  int seconds = 0;
  if (PQconninfoOption* options = pq.conninfo(conn); options != nullptr) {
    for (PQconninfoOption* option = options; option->keyword != nullptr; ++option) {
      if (std::strcmp(option->keyword, "connect_timeout") != 0 || option->val == nullptr) continue;
      const char* end = option->val + std::strlen(option->val);
      if (std::from_chars(option->val, end, seconds).ptr != end) seconds = 0;
    }
    pq.conninfo_free(options);
  }
  if (seconds <= 0) return fallback;
  return std::chrono::seconds(std::max(seconds, 2));  // libpq's least, lest it fail at once
}

std::string Milliseconds(std::chrono::milliseconds timeout) {
  return std::to_string(timeout.count()) + " ms";
}

}  // namespace

void ResultDeleter::operator()(PGresult* result) const { Libpq().clear(result); }

void Session::ConnectionCloser::operator()(PGconn* conn) const {
  // Non-blocking by then (or still connecting), so the goodbye message never waits on a server
  // that does not read.
  Libpq().finish(conn);
}

Session::Session(SessionOptions options) : options_(std::move(options)) {}

Session::~Session() = default;

Status Session::Connect() {
  const LibpqFunctions& pq = Libpq();
  if (in_transaction_) {
    // Never reconnect inside a transaction: the next statements would run outside it.
    if (conn_ != nullptr && pq.status(conn_.get()) == CONNECTION_OK &&
        (pq.transaction_status(conn_.get()) == PQTRANS_INTRANS ||
         pq.transaction_status(conn_.get()) == PQTRANS_INERROR)) {
      return OkStatus();
    }
    return UnavailableError("the connection to PostgreSQL was lost during a transaction");
  }
  if (conn_ != nullptr) {
    // An idle connection has nothing to read (footfall uses no LISTEN): anything readable is
    // a "terminating connection" message or EOF from a restarted server, a proxy's idle
    // timeout or idle_session_timeout. Then a new connection is opened now, before anything
    // is sent, instead of failing one request with a 503.
    if (pq.status(conn_.get()) == CONNECTION_OK && !HasUnsolicitedInput(pq.socket(conn_.get()))) {
      return OkStatus();
    }
    conn_.reset();
    last_attempt_ = {};  // it was up a moment ago: reconnect at once
  }
  const auto now = SteadyClock::now();
  if (now - last_attempt_ < options_.reconnect_interval) {
    return UnavailableError("database unreachable (retrying): " +
                            (last_error_.empty() ? std::string("connection lost") : last_error_));
  }
  Status opened = Open();
  // From the attempt's end: one that used up its whole deadline on a frozen server is followed by
  // reconnect_interval of fast failures, not by another wait at once.
  last_attempt_ = SteadyClock::now();
  return opened;
}

Status Session::Open() {
  const LibpqFunctions& pq = Libpq();
  Connection conn(pq.connect_start(options_.uri.c_str()));
  if (conn == nullptr) {
    last_error_ = "out of memory";
    return UnavailableError("cannot connect to PostgreSQL: " + last_error_);
  }
  // libpq ignores connect_timeout when the caller polls (its documented rule), so it is enforced
  // here, on the whole attempt.
  const std::chrono::milliseconds timeout = ConnectTimeout(conn.get(), options_.connect_timeout);
  const auto deadline = SteadyClock::now() + timeout;
  auto failed = [&](std::string why) {
    last_error_ = OneLine(why);
    return UnavailableError("cannot connect to PostgreSQL: " + last_error_);
  };
  // libpq's loop: before the first PQconnectPoll, wait as if it had asked for writing; the socket
  // may change between calls (another address or host), so it is asked for every time.
  PostgresPollingStatusType polling = PGRES_POLLING_WRITING;
  while (polling != PGRES_POLLING_OK) {
    if (polling == PGRES_POLLING_FAILED || pq.status(conn.get()) == CONNECTION_BAD) {
      return failed(pq.error_message(conn.get()));
    }
    const int ready = WaitForSocket(pq.socket(conn.get()),
                                    polling == PGRES_POLLING_READING ? POLLIN : POLLOUT, deadline);
    if (ready == 0) {
      const std::string host = pq.host(conn.get()) != nullptr ? pq.host(conn.get()) : "";
      const std::string port = pq.port(conn.get()) != nullptr ? pq.port(conn.get()) : "";
      return failed("no answer from the server at \"" + host + "\", port " + port + " within " +
                    Milliseconds(timeout) + " (connect_timeout)");
    }
    if (ready < 0) return failed(std::string("waiting for the server: ") + std::strerror(errno));
    polling = pq.connect_poll(conn.get());
  }
  if (pq.set_nonblocking(conn.get(), 1) != 0) {
    return failed(pq.error_message(conn.get()));
  }
  // Notices ("relation already exists, skipping") are not errors; keep them off stderr.
  pq.set_notice_processor(
      conn.get(), [](void*, const char*) {}, nullptr);
  conn_ = std::move(conn);
  // A statement waiting on a lock (or a stuck server) must end within a request's budget. Part of
  // connecting: the same deadline.
  StatusOr<Result> setup = Run(Send::kStatement, "SET statement_timeout = 5000", {},
                               "configuring the PostgreSQL session", deadline, timeout);
  if (!setup.ok()) {
    conn_.reset();
    last_error_ = setup.status().message();
    return UnavailableError(last_error_);
  }
  return OkStatus();
}

StatusOr<Result> Session::Exec(const char* sql, const std::vector<std::string>& params,
                               std::string_view what, std::chrono::milliseconds timeout) {
  RETURN_IF_ERROR(Connect());
  return Run(Send::kStatement, sql, params, what, DeadlineAfter(timeout), timeout);
}

StatusOr<Result> Session::ExecScript(const std::string& sql, std::string_view what,
                                     std::chrono::milliseconds timeout) {
  RETURN_IF_ERROR(Connect());
  return Run(Send::kScript, sql.c_str(), {}, what, DeadlineAfter(timeout), timeout);
}

StatusOr<Result> Session::Run(Send send, const char* sql, const std::vector<std::string>& params,
                              std::string_view what, SteadyClock::time_point deadline,
                              std::chrono::milliseconds timeout) {
  const LibpqFunctions& pq = Libpq();
  PGconn* conn = conn_.get();
  auto failed = [&](const PGresult* result) {
    Status error = PostgresError(conn, result, what);
    if (result == nullptr || pq.status(conn) == CONNECTION_BAD) conn_.reset();  // reconnect next
    return error;
  };
  auto timed_out = [&](std::string_view waiting_for) {
    conn_.reset();  // its state is unknown
    return DeadlineExceededError(std::string(what) + ": " + std::string(waiting_for) + " within " +
                                 Milliseconds(timeout));
  };
  auto poll_failed = [&] {
    const std::string why = std::strerror(errno);
    conn_.reset();
    return UnavailableError(std::string(what) + ": waiting for PostgreSQL: " + why);
  };

  int queued = 0;
  if (send == Send::kScript) {
    queued = pq.send_query(conn, sql);
  } else {
    std::vector<const char*> values;
    for (const std::string& param : params) values.push_back(param.c_str());
    queued = pq.send_query_params(conn, sql, static_cast<int>(values.size()), nullptr,
                                  values.data(), nullptr, nullptr, 0);
  }
  if (queued != 1) return failed(nullptr);

  // Non-blocking, the statement is only queued: PQflush sends what the socket takes (1: some is
  // left). While waiting to send more, read too — the server may be blocked sending us something
  // and not read until we do (libpq's rule for non-blocking connections).
  while (true) {
    const int flushed = pq.flush(conn);
    if (flushed == 0) break;
    if (flushed < 0) return failed(nullptr);
    const int ready = WaitForSocket(pq.socket(conn), POLLOUT | POLLIN, deadline);
    if (ready == 0) return timed_out("PostgreSQL took no more of the statement");
    if (ready < 0) return poll_failed();
    if ((ready & (POLLIN | POLLERR | POLLHUP)) != 0 && pq.consume_input(conn) != 1) {
      return failed(nullptr);
    }
  }

  Result last;
  while (true) {
    while (pq.is_busy(conn)) {
      const int ready = WaitForSocket(pq.socket(conn), POLLIN, deadline);
      if (ready == 0) return timed_out("no answer from PostgreSQL");
      if (ready < 0) return poll_failed();
      if (pq.consume_input(conn) != 1) return failed(nullptr);
    }
    Result result(pq.get_result(conn));
    if (result == nullptr) break;  // every result of the statement has been read
    last = std::move(result);
  }
  if (last == nullptr) return failed(nullptr);
  const ExecStatusType status = pq.result_status(last.get());
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return last;
  return failed(last.get());
}

Status Session::Begin() {
  // A connection left inside a transaction (a failed ROLLBACK) is not reused.
  if (conn_ != nullptr && Libpq().transaction_status(conn_.get()) != PQTRANS_IDLE) conn_.reset();
  RETURN_IF_ERROR(Exec("BEGIN", {}, "beginning a transaction").status());
  in_transaction_ = true;
  return OkStatus();
}

Status Session::Commit(std::chrono::milliseconds timeout) {
  StatusOr<Result> result = Exec("COMMIT", {}, "committing", timeout);
  in_transaction_ = false;
  RETURN_IF_ERROR(result.status());
  if (std::string_view(Libpq().cmd_status(result->get())) != "COMMIT") {
    return InternalError("PostgreSQL rolled the transaction back");
  }
  return OkStatus();
}

void Session::Rollback() {
  if (in_transaction_ && conn_ != nullptr && Libpq().status(conn_.get()) == CONNECTION_OK) {
    Exec("ROLLBACK", {}, "rolling back").status().IgnoreError();
  }
  in_transaction_ = false;
}

Status PostgresError(const PGconn* conn, const PGresult* result, std::string_view what) {
  const LibpqFunctions& pq = Libpq();
  std::string message(what);
  message += ": ";
  const char* detail = result != nullptr ? pq.result_error_message(result) : pq.error_message(conn);
  message += OneLine(detail != nullptr && *detail != '\0' ? detail : pq.error_message(conn));
  const char* state = result != nullptr ? pq.result_error_field(result, PG_DIAG_SQLSTATE) : nullptr;
  const std::string_view sqlstate = state != nullptr ? state : "";
  if (sqlstate.empty() || pq.status(conn) == CONNECTION_BAD) return UnavailableError(message);
  if (sqlstate == "23505") return AlreadyExistsError(message);
  if (sqlstate.starts_with("08") || sqlstate.starts_with("57P") || sqlstate == "57014" ||
      sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "53300" || sqlstate == "55P03") {
    return UnavailableError(message);
  }
  if (sqlstate.starts_with("53")) return ResourceExhaustedError(message);
  if (sqlstate.starts_with("28") || sqlstate == "3D000" || sqlstate == "42P01") {
    return FailedPreconditionError(message);
  }
  return InternalError(message);
}

std::string OneLine(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\n' || c == '\t') {
      if (!out.empty() && out.back() != ' ') out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace footfall::store::postgres
