// `footfall migrate`: prepares a store for use (creates the SQLite schema, or the DynamoDB table
// as the seed's Terraform would, for local use). Not thread-safe; called once from main.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace footfall::cli {

struct MigrateConfig {
  std::string store = "sqlite:data/footfall.db";
};

CLI::App* AddMigrateCommand(CLI::App& app, MigrateConfig& config);

// Returns the process exit code: 0 when the store is ready.
int RunMigrate(const MigrateConfig& config);

}  // namespace footfall::cli
