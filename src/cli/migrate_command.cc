#include "cli/migrate_command.h"

#include <cstdio>

#include "cli/option_values.h"
#include "store/open_store.h"

namespace footfall::cli {

CLI::App* AddMigrateCommand(CLI::App& app, MigrateConfig& config) {
  CLI::App* migrate = app.add_subcommand(
      "migrate",
      "Create what a store needs: the SQLite schema, or a DynamoDB table (hash key visit_id, "
      "on-demand, TTL on expiration_time) for local use. Safe to repeat.");
  migrate->add_option("--store", config.store, kStoreOptionHelp)
      ->envname("FOOTFALL_STORE")
      ->capture_default_str();
  return migrate;
}

int RunMigrate(const MigrateConfig& config) {
  Status status = store::MigrateStore(config.store);
  if (!status.ok()) {
    std::fprintf(stderr, "footfall: migrate %s: %s\n", store::RedactStoreUri(config.store).c_str(),
                 status.ToString().c_str());
    return 1;
  }
  std::fprintf(stderr, "footfall: %s is ready\n", store::RedactStoreUri(config.store).c_str());
  return 0;
}

}  // namespace footfall::cli
