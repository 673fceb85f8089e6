#include "store/sqlite/wal_write_gathering_vfs.h"

#include <sqlite3.h>

#include <cstring>
#include <memory>
#include <new>

#include "store/sqlite/sqlite_handle.h"

namespace footfall::store::sqlite {
namespace {

// SQLite's unix VFS writes at most 128 KiB - 1 bytes per xWrite (it masks the count with 0x1ffff
// and reports a longer write as SQLITE_FULL), so that is the most gathered at once: 31 frames of
// 4 KiB pages, more than a typical batch changes.
constexpr sqlite3_int64 kMaxGatheredBytes = 0x1ffff;

// Writes to one WAL file not yet handed to the default VFS: bytes [start, start + size).
struct Gathered {
  std::unique_ptr<char[]> bytes{new (std::nothrow) char[kMaxGatheredBytes]};
  sqlite3_int64 start = 0;
  sqlite3_int64 size = 0;
};

// SQLite allocates sqlite3_vfs::szOsFile bytes per open file: this struct, then the default VFS's
// own file object right after it.
struct File {
  sqlite3_file base;         // first: SQLite sees a File as a sqlite3_file
  sqlite3_file* real;        // the default VFS's file
  Gathered* gathered;        // WAL files only (null for the others, and if allocation failed)
};

File* AsFile(sqlite3_file* file) { return reinterpret_cast<File*>(file); }
sqlite3_file* Real(sqlite3_file* file) { return AsFile(file)->real; }

// Hands what is gathered to the default VFS as one write. The bytes are dropped either way: after
// a failed write SQLite fails the commit, and the frames will be written again or overwritten.
int Flush(File* file) {
  Gathered* gathered = file->gathered;
  if (gathered == nullptr || gathered->size == 0) return SQLITE_OK;
  const int rc = file->real->pMethods->xWrite(file->real, gathered->bytes.get(),
                                              static_cast<int>(gathered->size), gathered->start);
  gathered->size = 0;
  return rc;
}

int Close(sqlite3_file* file) {
  File* self = AsFile(file);
  const int flushed = Flush(self);
  const int closed = self->real->pMethods->xClose(self->real);
  delete self->gathered;
  self->gathered = nullptr;
  return flushed != SQLITE_OK ? flushed : closed;
}

int Read(sqlite3_file* file, void* out, int amount, sqlite3_int64 offset) {
  if (const int rc = Flush(AsFile(file)); rc != SQLITE_OK) return rc;
  return Real(file)->pMethods->xRead(Real(file), out, amount, offset);
}

int Write(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
  File* self = AsFile(file);
  Gathered* gathered = self->gathered;
  if (gathered == nullptr || gathered->bytes == nullptr || amount > kMaxGatheredBytes) {
    if (const int rc = Flush(self); rc != SQLITE_OK) return rc;
    return self->real->pMethods->xWrite(self->real, data, amount, offset);
  }
  const bool continues = gathered->size > 0 && offset == gathered->start + gathered->size;
  if ((gathered->size > 0 && !continues) || gathered->size + amount > kMaxGatheredBytes) {
    if (const int rc = Flush(self); rc != SQLITE_OK) return rc;
  }
  if (gathered->size == 0) gathered->start = offset;
  std::memcpy(gathered->bytes.get() + gathered->size, data, static_cast<size_t>(amount));
  gathered->size += amount;
  return SQLITE_OK;
}

int Truncate(sqlite3_file* file, sqlite3_int64 size) {
  if (const int rc = Flush(AsFile(file)); rc != SQLITE_OK) return rc;
  return Real(file)->pMethods->xTruncate(Real(file), size);
}

int Sync(sqlite3_file* file, int flags) {
  if (const int rc = Flush(AsFile(file)); rc != SQLITE_OK) return rc;
  return Real(file)->pMethods->xSync(Real(file), flags);
}

int FileSize(sqlite3_file* file, sqlite3_int64* size) {
  if (const int rc = Flush(AsFile(file)); rc != SQLITE_OK) return rc;
  return Real(file)->pMethods->xFileSize(Real(file), size);
}

int Lock(sqlite3_file* file, int level) { return Real(file)->pMethods->xLock(Real(file), level); }
int Unlock(sqlite3_file* file, int level) {
  return Real(file)->pMethods->xUnlock(Real(file), level);
}
int CheckReservedLock(sqlite3_file* file, int* out) {
  return Real(file)->pMethods->xCheckReservedLock(Real(file), out);
}

int FileControl(sqlite3_file* file, int op, void* arg) {
  if (const int rc = Flush(AsFile(file)); rc != SQLITE_OK) return rc;
  return Real(file)->pMethods->xFileControl(Real(file), op, arg);
}

int SectorSize(sqlite3_file* file) { return Real(file)->pMethods->xSectorSize(Real(file)); }
int DeviceCharacteristics(sqlite3_file* file) {
  return Real(file)->pMethods->xDeviceCharacteristics(Real(file));
}

// The shared-memory wal-index and memory-mapped reads belong to the database file: forwarded.
int ShmMap(sqlite3_file* file, int region, int size, int extend, void volatile** out) {
  return Real(file)->pMethods->xShmMap(Real(file), region, size, extend, out);
}
int ShmLock(sqlite3_file* file, int offset, int n, int flags) {
  return Real(file)->pMethods->xShmLock(Real(file), offset, n, flags);
}
void ShmBarrier(sqlite3_file* file) { Real(file)->pMethods->xShmBarrier(Real(file)); }
int ShmUnmap(sqlite3_file* file, int delete_flag) {
  return Real(file)->pMethods->xShmUnmap(Real(file), delete_flag);
}
int Fetch(sqlite3_file* file, sqlite3_int64 offset, int amount, void** out) {
  return Real(file)->pMethods->xFetch(Real(file), offset, amount, out);
}
int Unfetch(sqlite3_file* file, sqlite3_int64 offset, void* page) {
  return Real(file)->pMethods->xUnfetch(Real(file), offset, page);
}

constexpr sqlite3_io_methods kMethods = {
    3,        Close,  Read,       Write,    Truncate, Sync,
    FileSize, Lock,   Unlock,     CheckReservedLock,  FileControl,
    SectorSize,       DeviceCharacteristics,          ShmMap,
    ShmLock,  ShmBarrier,         ShmUnmap, Fetch,    Unfetch,
};

sqlite3_vfs* default_vfs = nullptr;  // set once, before registration

int Open(sqlite3_vfs*, const char* name, sqlite3_file* file, int flags, int* out_flags) {
  File* self = AsFile(file);
  self->base.pMethods = nullptr;
  self->real = reinterpret_cast<sqlite3_file*>(self + 1);
  self->gathered = nullptr;
  const int rc = default_vfs->xOpen(default_vfs, name, self->real, flags, out_flags);
  // SQLite calls xClose whenever pMethods is set after xOpen, even after a failed open.
  if (self->real->pMethods == nullptr) return rc;
  // The real file must support everything kMethods forwards.
  if (self->real->pMethods->iVersion < 3) {
    self->real->pMethods->xClose(self->real);
    return SQLITE_CANTOPEN;
  }
  if (rc == SQLITE_OK && (flags & SQLITE_OPEN_WAL) != 0) {
    self->gathered = new (std::nothrow) Gathered;  // without it, writes go straight through
  }
  self->base.pMethods = &kMethods;
  return rc;
}

const char* Register() {
  static_assert(sizeof(File) % 8 == 0, "the default VFS's file must stay 8-byte aligned");
  ConfigureSqliteOnce();  // sqlite3_vfs_find initialises SQLite
  default_vfs = sqlite3_vfs_find(nullptr);
  if (default_vfs == nullptr) return nullptr;
  static sqlite3_vfs vfs = *default_vfs;  // every other method is the default VFS's own
  vfs.szOsFile = static_cast<int>(sizeof(File)) + default_vfs->szOsFile;
  vfs.pNext = nullptr;
  vfs.zName = "footfall-wal-gathering";
  vfs.xOpen = Open;
  if (sqlite3_vfs_register(&vfs, /*makeDflt=*/0) != SQLITE_OK) return nullptr;
  return vfs.zName;
}

}  // namespace

const char* WalWriteGatheringVfs() {
  static const char* const name = Register();
  return name;
}

}  // namespace footfall::store::sqlite
