// Creating a SQLite database file all at once.
//
// Built in place, a new WAL database costs seven fsyncs before it serves: a rollback journal to
// switch the empty file to WAL (journal, its directory, its header, the database), then the new
// WAL's header, its directory and the schema's commit. Built beside its final path instead, with
// neither journal nor syncs, it costs two: the finished file, then the directory after an atomic
// rename that never replaces an existing file. A crash before the rename leaves no database at
// the path (only a stray "<path>.new-*" file), never a half-made one.
//
// Thread-safety: safe to call concurrently, also from several processes, for the same path: one
// file wins, the others' work is discarded.
#pragma once

#include <sqlite3.h>

#include <functional>
#include <string>

#include "base/status.h"

namespace footfall::store::sqlite {

// If nothing exists at `path`, creates the database there: runs `build` on a fresh connection to
// a temporary file beside it (no journal, no syncs; `build` may use transactions), switches it to
// WAL mode, closes it, fsyncs it and renames it to `path` (unless another process created `path`
// meanwhile: then its file stays and this one is deleted), then fsyncs the directory. Does nothing
// if `path` exists. The directory must exist. Errors: kUnavailable for file system errors, and
// whatever `build` returns.
Status CreateDatabaseIfMissing(const std::string& path,
                               const std::function<Status(sqlite3* db)>& build);

}  // namespace footfall::store::sqlite
