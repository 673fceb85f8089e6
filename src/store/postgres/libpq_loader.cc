#include "store/postgres/libpq_loader.h"

#include <dlfcn.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>

namespace footfall::store::postgres {
namespace {

LibpqFunctions functions;         // filled once by LoadLibpq; read-only afterwards
std::atomic<bool> loaded{false};  // set once `functions` is complete

}  // namespace

Status LoadLibpq() {
  static std::once_flag once;
  static Status outcome;
  std::call_once(once, [library = kLibpqName] {
    void* handle = dlopen(library, RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
      const char* why = dlerror();
      outcome = UnavailableError(std::string("PostgreSQL stores need ") + library +
                                 " (Debian package libpq5): " + (why ? why : "cannot load it"));
      return;
    }
    LibpqFunctions table;
    std::string missing;
#define FOOTFALL_LIBPQ_RESOLVE(member, symbol)                                  \
  table.member = reinterpret_cast<decltype(&::symbol)>(dlsym(handle, #symbol)); \
  if (table.member == nullptr) missing += (missing.empty() ? "" : ", ") + std::string(#symbol);
    FOOTFALL_LIBPQ_FUNCTIONS(FOOTFALL_LIBPQ_RESOLVE)
#undef FOOTFALL_LIBPQ_RESOLVE
    if (!missing.empty()) {
      outcome = UnavailableError(std::string(library) + " lacks " + missing);
      return;
    }
    functions = table;
    loaded.store(true, std::memory_order_release);  // the handle stays open: the process uses it
  });
  return outcome;
}

const LibpqFunctions& Libpq() {
  if (!loaded.load(std::memory_order_acquire)) {
    // Callers load it first to report a missing library cleanly; one that did not gets it now.
    if (Status status = LoadLibpq(); !status.ok()) {
      std::fprintf(stderr, "footfall: %s\n", status.ToString().c_str());
      std::abort();
    }
  }
  return functions;
}

}  // namespace footfall::store::postgres
