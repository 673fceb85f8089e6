// OpenStore: the one place that turns a store URI into a concrete Store.
// Thread-safe (reads the environment, no shared state).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/status.h"
#include "store/store.h"
#include "store/store_uri.h"

namespace footfall::store {

// Opens the store named by `uri`:
//   sqlite:PATH      (also sqlite://PATH) a SQLite file, created with its directory if missing
//   memory:          process memory, lost on exit
//   postgres://USER@HOST:PORT/DB[?libpq parameters]   (also postgresql://) a PostgreSQL database;
//                    migrations are applied on open
//   dynamodb://TABLE[?region=R&endpoint=URL&shards=N]
//                    a DynamoDB table. region defaults to AWS_REGION (then AWS_DEFAULT_REGION),
//                    endpoint to AWS_ENDPOINT_URL_DYNAMODB (then AWS_ENDPOINT_URL, then AWS's
//                    regional endpoint), shards to FOOTFALL_COUNTER_SHARDS (then 1). Credentials
//                    come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN; the
//                    CA bundle from FOOTFALL_CA_FILE (or SSL_CERT_FILE) when set.
// Errors: kInvalidArgument for an unknown scheme or malformed URI; otherwise the engine's own
// open errors (see each engine's header).
StatusOr<std::unique_ptr<Store>> OpenStore(std::string_view uri);

// RedactStoreUri(uri): store_uri.h.

// Creates whatever the store at `uri` needs before use: SQLite creates its schema on open anyway;
// for DynamoDB this creates the table (hash key visit_id, on-demand, TTL) if it does not exist;
// for PostgreSQL it applies pending migrations (under an advisory lock).
// Errors: as OpenStore, plus the engine's errors.
Status MigrateStore(std::string_view uri);

}  // namespace footfall::store
