#include "store/sqlite/sqlite_handle.h"

#include <cstring>

#include "store/sqlite/wal_write_gathering_vfs.h"

namespace footfall::store::sqlite {

Status SqliteError(sqlite3* db, int result_code, std::string_view what) {
  std::string message(what);
  message += ": ";
  message += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(result_code);
  // SQLite's "disk I/O error" does not say which: the operating system's error does (for logs and
  // start-up errors only; no store text reaches a client).
  if (const int os_error = db != nullptr ? sqlite3_system_errno(db) : 0;
      os_error != 0 && ((result_code & 0xff) == SQLITE_IOERR || (result_code & 0xff) == SQLITE_FULL ||
                        (result_code & 0xff) == SQLITE_CANTOPEN)) {
    message += " (";
    message += std::strerror(os_error);
    message += ")";
  }
  switch (result_code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
      return UnavailableError(std::move(message));
    case SQLITE_FULL:
      return ResourceExhaustedError(std::move(message));
    case SQLITE_CONSTRAINT:
      return AlreadyExistsError(std::move(message));
    case SQLITE_READONLY:
      return FailedPreconditionError(std::move(message));
    default:
      return InternalError(std::move(message));
  }
}

void ConfigureSqliteOnce() {
  // Process-wide, before SQLite initialises:
  // - no allocation statistics (they take a global mutex on every sqlite3_malloc and free, and
  //   footfall never reads them);
  // - no up-front page-cache block per connection: SQLite would allocate 20 pages (~90 KB) and
  //   write a free list through all of them at open, ~22 page faults per connection that start-up
  //   pays for pages a visit counter rarely needs; pages are allocated as they are used instead.
  static const bool configured = [] {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    sqlite3_config(SQLITE_CONFIG_PAGECACHE, nullptr, 0, 0);
    return true;
  }();
  (void)configured;
}

StatusOr<Connection> OpenConnection(const std::string& path, int flags, int busy_timeout_ms,
                                    WalWrites wal_writes) {
  ConfigureSqliteOnce();
  const char* vfs = wal_writes == WalWrites::kGatheredPerCommit ? WalWriteGatheringVfs() : nullptr;
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX, vfs);
  Connection db(raw);
  if (rc != SQLITE_OK) return SqliteError(db.get(), rc, "opening " + path);
  sqlite3_extended_result_codes(db.get(), 1);
  sqlite3_busy_timeout(db.get(), busy_timeout_ms);
  return db;
}

Status Execute(sqlite3* db, const char* sql) {
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return SqliteError(db, rc, "executing statement");
  return OkStatus();
}

StatusOr<Statement> Prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* raw = nullptr;
  const int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
  Statement statement(raw);
  if (rc != SQLITE_OK) return SqliteError(db, rc, "preparing statement");
  return statement;
}

Status BindText(sqlite3* db, sqlite3_stmt* statement, int index, const std::string& text) {
  const int rc = sqlite3_bind_text(statement, index, text.data(), static_cast<int>(text.size()),
                                   SQLITE_STATIC);
  if (rc != SQLITE_OK) return SqliteError(db, rc, "binding a parameter");
  return OkStatus();
}

}  // namespace footfall::store::sqlite
