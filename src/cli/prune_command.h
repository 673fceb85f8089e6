// `footfall prune`: deletes raw visits past their retention (expiration_time), keeping the
// aggregates. `footfall serve` also does this every hour. Not thread-safe; called once from main.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace footfall::cli {

struct PruneConfig {
  std::string store = "sqlite:data/footfall.db";
};

CLI::App* AddPruneCommand(CLI::App& app, PruneConfig& config);

// Returns the process exit code.
int RunPrune(const PruneConfig& config);

}  // namespace footfall::cli
