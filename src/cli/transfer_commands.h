// `footfall export`, `footfall import` and `footfall stats`: moving raw visits in and out of a
// store, and reading its statistics in a terminal. Not thread-safe; called once from main.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace footfall::cli {

struct ExportConfig {
  std::string store = "sqlite:data/footfall.db";
  std::string from;             // YYYY-MM-DD or ISO time; "" = from the first visit
  std::string to;               // "" = up to now
  std::string format = "jsonl";  // jsonl or csv
  std::string output = "-";      // a file (written whole or not at all) or "-" for stdout
};

struct ImportConfig {
  std::string store = "sqlite:data/footfall.db";
  std::string input = "-";       // a file or "-" for stdin
  std::string format = "auto";   // auto, jsonl, csv, goatcounter
  std::string site;              // for GoatCounter rows (they carry none)
  int retention_days = 90;       // for GoatCounter rows
  int parallel = 64;             // visits being written at once
};

struct StatsConfig {
  std::string store = "sqlite:data/footfall.db";
  std::string site;
  std::string allowed_origins;  // only to find the default site, as `serve` does
  std::string from, to, path;
  std::string event;            // a custom event whose properties to list
  std::string goals;            // as serve's --goals: lists every goal with its conversion rate
  std::string interval = "day";
  int top = 10;
  bool json = false;
};

CLI::App* AddExportCommand(CLI::App& app, ExportConfig& config);
CLI::App* AddImportCommand(CLI::App& app, ImportConfig& config);
CLI::App* AddStatsCommand(CLI::App& app, StatsConfig& config);

// Each returns the process exit code: 0 done, 1 failed (the message says where), 2 bad usage.
int RunExport(const ExportConfig& config);
int RunImport(const ImportConfig& config);
int RunStats(const StatsConfig& config);

}  // namespace footfall::cli
