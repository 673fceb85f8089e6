// footfall's entry point and composition root: parses the command line and runs a subcommand.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "cli/serve_command.h"

int main(int argc, char** argv) {
  CLI::App app{
      "footfall: a privacy-first visitor counter and web analytics backend.\n"
      "Every option can also be set with the environment variable shown beside it."};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("footfall ") + FOOTFALL_VERSION);

  footfall::cli::ServeConfig serve_config;
  CLI::App* serve = footfall::cli::AddServeCommand(app, serve_config);

  try {
    app.parse(argc, argv);
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
  return 2;
}
