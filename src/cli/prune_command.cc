#include "cli/prune_command.h"

#include <chrono>
#include <cstdio>

#include "cli/option_values.h"
#include "store/blocking.h"
#include "store/open_store.h"

namespace footfall::cli {

CLI::App* AddPruneCommand(CLI::App& app, PruneConfig& config) {
  CLI::App* prune = app.add_subcommand(
      "prune",
      "Delete raw visits past their retention (expiration_time; aggregates stay) and the salts "
      "of days before yesterday. 'serve' does both hourly and just after midnight UTC, and the "
      "Lambda function on its schedule; run this when no server runs.");
  prune->add_option("--store", config.store, kStoreOptionHelp)
      ->envname("FOOTFALL_STORE")
      ->capture_default_str();
  return prune;
}

int RunPrune(const PruneConfig& config) {
  StatusOr<std::unique_ptr<store::Store>> opened = store::OpenStore(config.store);
  if (!opened.ok()) {
    std::fprintf(stderr, "footfall: cannot open store %s: %s\n",
                 store::RedactStoreUri(config.store).c_str(),
                 opened.status().message().c_str());
    return 1;
  }
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  StatusOr<int64_t> deleted = store::Wait<int64_t>([&](store::Callback<int64_t> done) {
    (*opened)->PruneExpired(now, store::kNoDeadline, std::move(done));
  });
  if (!deleted.ok()) {
    std::fprintf(stderr, "footfall: prune: %s\n", deleted.status().ToString().c_str());
    return 1;
  }
  const int64_t first_kept_day = (now >= 0 ? now : now - 86'399) / 86'400 - 1;
  StatusOr<int64_t> salts = store::DeleteSaltsBeforeAndWait(**opened, first_kept_day);
  if (!salts.ok()) {
    std::fprintf(stderr, "footfall: prune: deleting old salts: %s\n",
                 salts.status().ToString().c_str());
    return 1;
  }
  std::fprintf(stderr, "footfall: deleted %lld expired visits and %lld old salts from %s\n",
               static_cast<long long>(*deleted), static_cast<long long>(*salts),
               (*opened)->Describe().c_str());
  return 0;
}

}  // namespace footfall::cli
