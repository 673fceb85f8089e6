#include "store/sqlite/new_database.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "store/sqlite/sqlite_handle.h"

namespace footfall::store::sqlite {
namespace {

Status FileSystemError(const std::string& what, const std::string& path) {
  return UnavailableError(what + " " + path + ": " + std::strerror(errno));
}

// fsync of a file or directory: its contents and its metadata (a new file's size, new names).
Status SyncPath(const std::string& path, int open_flags) {
  const int fd = ::open(path.c_str(), open_flags | O_RDONLY | O_CLOEXEC);
  if (fd < 0) return FileSystemError("cannot open", path);
  const bool synced = ::fsync(fd) == 0;
  const Status status = synced ? OkStatus() : FileSystemError("cannot sync", path);
  ::close(fd);
  return status;
}

// Removes `path` and the files SQLite may keep beside it; missing ones are fine.
void RemoveDatabaseFiles(const std::string& path) {
  for (const char* suffix : {"", "-journal", "-wal", "-shm"}) ::unlink((path + suffix).c_str());
}

Status Build(const std::string& path, const std::function<Status(sqlite3*)>& build) {
  ASSIGN_OR_RETURN(Connection db,
                   OpenConnection(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, 0));
  // Nothing here needs to survive a crash until the file is synced and renamed as a whole.
  RETURN_IF_ERROR(Execute(db.get(), "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF"));
  RETURN_IF_ERROR(build(db.get()));
  RETURN_IF_ERROR(Execute(db.get(), "PRAGMA journal_mode = WAL"));
  // The last connection's close checkpoints and deletes the (empty) WAL: one self-contained file.
  const int rc = sqlite3_close(db.release());
  if (rc != SQLITE_OK) return SqliteError(nullptr, rc, "closing new database " + path);
  return OkStatus();
}

// Gives `from` the name `to` unless `to` exists. Returns false (and OK) if it did.
StatusOr<bool> RenameNoReplace(const std::string& from, const std::string& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return true;
  if (errno == EEXIST) return false;
  if (errno != EINVAL && errno != ENOSYS) return FileSystemError("cannot rename to", to);
  // A file system without RENAME_NOREPLACE: link() never replaces either.
  if (::link(from.c_str(), to.c_str()) != 0) {
    if (errno == EEXIST) return false;
    return FileSystemError("cannot link to", to);
  }
  ::unlink(from.c_str());  // before the directory's sync, so no second name survives a crash
  return true;
}

}  // namespace

Status CreateDatabaseIfMissing(const std::string& path,
                               const std::function<Status(sqlite3* db)>& build) {
  struct stat info {};
  if (::stat(path.c_str(), &info) == 0) return OkStatus();
  if (errno != ENOENT) return FileSystemError("cannot inspect", path);

  static std::atomic<unsigned> serial{0};
  const std::string building =
      path + ".new-" + std::to_string(::getpid()) + "-" + std::to_string(serial++);
  RemoveDatabaseFiles(building);  // a crashed process with the same pid may have left one
  Status created = Build(building, build);
  if (created.ok()) created = SyncPath(building, 0);
  if (created.ok()) {
    StatusOr<bool> renamed = RenameNoReplace(building, path);
    if (!renamed.ok()) {
      created = renamed.status();
    } else if (*renamed) {
      std::string directory = std::filesystem::path(path).parent_path().string();
      if (directory.empty()) directory = ".";
      created = SyncPath(directory, O_DIRECTORY);
    }
  }
  RemoveDatabaseFiles(building);  // after a failure, or when another process's file won
  if (!created.ok()) {
    return Status(created.code(), "cannot create database " + path + ": " + created.message());
  }
  return OkStatus();
}

}  // namespace footfall::store::sqlite
