// Thin RAII owners for sqlite3 connections and prepared statements, the one mapping from SQLite
// result codes to footfall Status codes, and the helpers the engine's parts share to run
// statements. A Connection is used by one thread at a time.
#pragma once

#include <sqlite3.h>

#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"

namespace footfall::store::sqlite {

struct ConnectionCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StatementFinalizer {
  void operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }
};
using Connection = std::unique_ptr<sqlite3, ConnectionCloser>;
using Statement = std::unique_ptr<sqlite3_stmt, StatementFinalizer>;

// Maps a SQLite result code to a Status: BUSY/LOCKED/IOERR/CANTOPEN → kUnavailable,
// FULL → kResourceExhausted, CONSTRAINT → kAlreadyExists, READONLY → kFailedPrecondition,
// anything else → kInternal. `what` names the operation; the engine's message is appended.
Status SqliteError(sqlite3* db, int result_code, std::string_view what);

// Process-wide SQLite settings; must run before anything initialises SQLite. Idempotent,
// thread-safe; OpenConnection calls it.
void ConfigureSqliteOnce();

// How a connection's commits reach the WAL file.
enum class WalWrites {
  kDirect,             // SQLite's default: two writes per page
  kGatheredPerCommit,  // one write per commit (wal_write_gathering_vfs.h): synchronous=FULL only
};

// Opens `path` with `flags` (plus NOMUTEX: one thread per connection) and a busy timeout.
StatusOr<Connection> OpenConnection(const std::string& path, int flags, int busy_timeout_ms,
                                    WalWrites wal_writes = WalWrites::kDirect);

// Runs one or more SQL statements without results. Errors: as SqliteError.
Status Execute(sqlite3* db, const char* sql);

// Prepares one statement. Errors: as SqliteError.
StatusOr<Statement> Prepare(sqlite3* db, const char* sql);

// Binds `text` to parameter `index` of `statement` without copying it (SQLITE_STATIC): `text`
// must stay alive and unchanged while the statement runs (so a temporary cannot be bound).
// Errors: as SqliteError.
Status BindText(sqlite3* db, sqlite3_stmt* statement, int index, std::string&& text) = delete;
Status BindText(sqlite3* db, sqlite3_stmt* statement, int index, const std::string& text);

}  // namespace footfall::store::sqlite
