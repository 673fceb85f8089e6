// The SQLite schema: footfall's tables, and bringing a database made by an older footfall up to
// the current version (kept in PRAGMA user_version). Internal to the SQLite engine. Not
// thread-safe: each call uses the caller's connection, which one thread at a time uses.
#pragma once

#include <sqlite3.h>

#include <string>

#include "base/status.h"

namespace footfall::store::sqlite {

// Creates the schema, or brings an older one to the current version, in one transaction. Also
// the `build` step of a new database file (new_database.h). Errors: as SqliteError.
Status MigrateToCurrentSchema(sqlite3* db);

// Reads the schema version of `db`, the database at `path` (named in errors), and migrates an
// older one. An up-to-date database is only read. Errors: kFailedPrecondition (not a SQLite
// database, or a schema newer than this footfall knows), those of MigrateToCurrentSchema.
Status UpgradeSchemaIfOlder(sqlite3* db, const std::string& path);

}  // namespace footfall::store::sqlite
