// OpenStore: the one place that turns a store URI into a concrete Store.
// Thread-safe (no shared state).
#pragma once

#include <memory>
#include <string_view>

#include "base/status.h"
#include "store/store.h"

namespace footfall::store {

// Opens the store named by `uri`:
//   sqlite:PATH      (also sqlite://PATH) a SQLite file, created with its directory if missing
//   memory:          process memory, lost on exit
// Errors: kInvalidArgument for an unknown scheme or malformed URI; otherwise the engine's own
// open errors (see each engine's header).
StatusOr<std::unique_ptr<Store>> OpenStore(std::string_view uri);

}  // namespace footfall::store
