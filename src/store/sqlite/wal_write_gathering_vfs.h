// A SQLite VFS that gathers a commit's WAL writes into one system call.
//
// SQLite writes each WAL frame as two writes (a 24-byte frame header, then the page), so a commit
// that changes N pages costs 2N pwrite calls before its fsync: about 36 for a typical footfall
// batch (visits, their index, the counter and five aggregate tables). This VFS forwards everything
// to SQLite's default VFS, except that consecutive writes to a WAL file are kept in memory and
// handed to the default VFS as one write when SQLite next syncs, reads, sizes, truncates or closes
// that file, or writes elsewhere in it (or when 128 KiB are gathered). What is on disk when a
// commit returns is unchanged: the sync that makes the commit durable flushes the gathered frames
// first, and reports their write error, if any, as the commit's error.
//
// Use it only for a connection that commits with synchronous=FULL: SQLite then syncs the WAL at
// every commit *before* it makes the new frames visible to other connections. With a weaker
// setting, frames could become visible while still gathered here.
//
// Thread-safety: WalWriteGatheringVfs() may be called from any thread; each file it opens is used
// by one connection, as SQLite requires.
#pragma once

namespace footfall::store::sqlite {

// The VFS's name for sqlite3_open_v2, registered (not as the default) on first call. Null if
// SQLite could not register it; then callers use the default VFS.
const char* WalWriteGatheringVfs();

}  // namespace footfall::store::sqlite
