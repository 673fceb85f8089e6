#include "store/open_store.h"

#include <string>

#include "store/memory_store.h"
#include "store/sqlite/sqlite_store.h"

namespace footfall::store {

StatusOr<std::unique_ptr<Store>> OpenStore(std::string_view uri) {
  if (uri == "memory:") return std::unique_ptr<Store>(std::make_unique<MemoryStore>());
  if (uri.starts_with("sqlite:")) {
    std::string_view path = uri.substr(7);
    if (path.starts_with("//")) path.remove_prefix(2);
    if (path.empty()) return InvalidArgumentError("store URI '" + std::string(uri) + "' has no path");
    sqlite::SqliteOptions options;
    options.path = std::string(path);
    ASSIGN_OR_RETURN(std::unique_ptr<sqlite::SqliteStore> sqlite_store,
                     sqlite::SqliteStore::Open(std::move(options)));
    return std::unique_ptr<Store>(std::move(sqlite_store));
  }
  return InvalidArgumentError("unknown store URI '" + std::string(uri) +
                              "' (expected sqlite:PATH or memory:)");
}

}  // namespace footfall::store
