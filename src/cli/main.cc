// footfall's entry point and composition root: parses the command line and runs a subcommand.
#include <CLI/CLI.hpp>
#include <openssl/crypto.h>

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "cli/lambda_command.h"
#include "cli/migrate_command.h"
#include "cli/prune_command.h"
#include "cli/routes_command.h"
#include "cli/serve_command.h"
#include "cli/transfer_commands.h"
#include "core/crawler_list.h"
#include "store/sqlite/sqlite_store.h"

namespace {

// "footfall 0.1.0 (SQLite 3.40.1, OpenSSL 3.0.19 ..., linked statically; bot patterns:
// crawler-user-agents 1.60.0)": with the libraries linked in, which versions a binary carries is
// what tells an operator whether it needs a rebuild after a security update (docs/operations.md),
// and which bot list it filters with.
std::string VersionLine() {
  return std::string("footfall ") + FOOTFALL_VERSION + " (SQLite " +
         footfall::store::sqlite::SqliteStore::LibraryVersion() + ", " +
         OpenSSL_version(OPENSSL_VERSION) +
         (FOOTFALL_STATIC_LIBS ? ", linked statically" : ", linked dynamically") +
         "; bot patterns: crawler-user-agents " + std::string(footfall::core::CrawlerListVersion()) +
         ")";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "footfall: a privacy-first visitor counter and web analytics backend.\n"
      "Every option can also be set with the environment variable shown beside it."};
  app.require_subcommand(1);
  app.set_version_flag("--version", VersionLine());

  footfall::cli::ServeConfig serve_config;
  CLI::App* serve = footfall::cli::AddServeCommand(app, serve_config);
  footfall::cli::LambdaConfig lambda_config;
  CLI::App* lambda = footfall::cli::AddLambdaCommand(app, lambda_config);
  footfall::cli::MigrateConfig migrate_config;
  CLI::App* migrate = footfall::cli::AddMigrateCommand(app, migrate_config);
  footfall::cli::PruneConfig prune_config;
  CLI::App* prune = footfall::cli::AddPruneCommand(app, prune_config);
  footfall::cli::StatsConfig stats_config;
  CLI::App* stats = footfall::cli::AddStatsCommand(app, stats_config);
  footfall::cli::ExportConfig export_config;
  CLI::App* export_command = footfall::cli::AddExportCommand(app, export_config);
  footfall::cli::ImportConfig import_config;
  CLI::App* import_command = footfall::cli::AddImportCommand(app, import_config);
  CLI::App* routes = footfall::cli::AddRoutesCommand(app);

  // Packaged as a Lambda custom runtime, the binary is named `bootstrap` and started without
  // arguments: that means `footfall lambda`.
  const std::string_view program = argv[0];
  const bool as_bootstrap = argc == 1 && (program == "bootstrap" || program.ends_with("/bootstrap"));

  try {
    if (as_bootstrap) {
      std::vector<std::string> arguments = {"lambda"};
      app.parse(arguments);
    } else {
      app.parse(argc, argv);
    }
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // One clear line, not a usage dump.
    std::fprintf(stderr, "footfall: %s (see footfall --help)\n", e.what());
    return 2;
  }
  if (serve->parsed()) return footfall::cli::RunServe(serve_config);
  if (lambda->parsed()) return footfall::cli::RunLambda(lambda_config);
  if (migrate->parsed()) return footfall::cli::RunMigrate(migrate_config);
  if (prune->parsed()) return footfall::cli::RunPrune(prune_config);
  if (stats->parsed()) return footfall::cli::RunStats(stats_config);
  if (export_command->parsed()) return footfall::cli::RunExport(export_config);
  if (import_command->parsed()) return footfall::cli::RunImport(import_config);
  if (routes->parsed()) return footfall::cli::RunRoutes();
  return 2;
}
