// The PostgreSQL schema: footfall's tables as versioned migrations, and applying the pending ones
// under an advisory lock, so that several instances starting at once do not race. Internal to the
// PostgreSQL engine (PostgresStore::Migrate connects, then calls it). Not thread-safe: it uses
// the caller's Session, which one thread at a time uses.
#pragma once

#include "base/status.h"
#include "store/postgres/postgres_session.h"

namespace footfall::store::postgres {

// Brings the database `session` is connected to up to the latest schema version, each migration
// in its own transaction, and creates the counter shards 0..counter_shards-1 that are missing.
// Sets statement_timeout = 0 on `session` (a migration may run long). A schema already current
// is only read, apart from the counter shards' INSERT ... ON CONFLICT DO NOTHING: instances may
// then run as a role that cannot CREATE. Errors: kFailedPrecondition (schema newer than this
// footfall), those of Session::Exec.
Status ApplyMigrations(Session& session, int counter_shards);

}  // namespace footfall::store::postgres
