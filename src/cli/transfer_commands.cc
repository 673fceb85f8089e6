#include "cli/transfer_commands.h"

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>

#include "base/clock.h"
#include "base/utc_time.h"
#include "cli/option_values.h"
#include "core/service.h"
#include "core/campaign.h"
#include "core/goals.h"
#include "core/stats_api.h"
#include "store/blocking.h"
#include "store/open_store.h"
#include "transfer/visit_records.h"

namespace footfall::cli {
namespace {

using Steady = std::chrono::steady_clock;

// Visits read per ScanVisits call.
constexpr int kExportPage = 1000;
constexpr auto kProgressEvery = std::chrono::seconds(2);

std::unique_ptr<store::Store> OpenOrReport(const std::string& uri) {
  StatusOr<std::unique_ptr<store::Store>> opened = store::OpenStore(uri);
  if (!opened.ok()) {
    std::fprintf(stderr, "footfall: cannot open store %s: %s\n", store::RedactStoreUri(uri).c_str(),
                 opened.status().message().c_str());
    return nullptr;
  }
  return *std::move(opened);
}

// [from, to) in Unix milliseconds from the --from/--to texts; a date-only `to` includes its day.
StatusOr<std::pair<int64_t, int64_t>> ParseRange(const std::string& from, const std::string& to) {
  int64_t from_ms = 0;
  int64_t to_ms = UnixMillis(SystemClock().Now()) + 1;
  bool date_only = false;
  if (!from.empty()) {
    StatusOr<int64_t> parsed = ParseUtcTime(from, date_only);
    if (!parsed.ok()) return InvalidArgumentError("--from: " + parsed.status().message());
    from_ms = *parsed;
  }
  if (!to.empty()) {
    StatusOr<int64_t> parsed = ParseUtcTime(to, date_only);
    if (!parsed.ok()) return InvalidArgumentError("--to: " + parsed.status().message());
    to_ms = date_only ? *parsed + kDayMs : *parsed;
  }
  if (from_ms >= to_ms) return InvalidArgumentError("--from must be before --to");
  return std::pair{from_ms, to_ms};
}

}  // namespace

CLI::App* AddExportCommand(CLI::App& app, ExportConfig& config) {
  CLI::App* command = app.add_subcommand(
      "export",
      "Write stored raw visits (within retention) as JSON Lines or CSV, oldest first, streaming. "
      "`footfall import` reads both back.");
  command->add_option("--store", config.store, kStoreOptionHelp)->envname("FOOTFALL_STORE")->capture_default_str();
  command->add_option("--from", config.from, "First day or time, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (default: the oldest visit)");
  command->add_option("--to", config.to, "Last day (included) or end time (excluded) (default: now)");
  command->add_option("--format", config.format, "jsonl or csv")
      ->check(CLI::IsMember({"jsonl", "csv"}))
      ->capture_default_str();
  command->add_option("-o,--output", config.output,
                      "File to write (replaced only once the export is complete), or - for stdout")
      ->capture_default_str();
  return command;
}

int RunExport(const ExportConfig& config) {
  StatusOr<std::pair<int64_t, int64_t>> range = ParseRange(config.from, config.to);
  if (!range.ok()) {
    std::fprintf(stderr, "footfall: export: %s\n", range.status().message().c_str());
    return 2;
  }
  std::unique_ptr<store::Store> store = OpenOrReport(config.store);
  if (!store) return 1;

  // A file is written beside its final name and renamed at the end: an interrupted export never
  // leaves a partial file that looks complete.
  const bool to_stdout = config.output == "-";
  const std::string partial = config.output + ".partial";
  std::ofstream file;
  if (!to_stdout) {
    file.open(partial, std::ios::binary | std::ios::trunc);
    if (!file) {
      std::fprintf(stderr, "footfall: export: cannot write %s\n", partial.c_str());
      return 1;
    }
  }
  std::ostream& out = to_stdout ? std::cout : file;
  const bool csv = config.format == "csv";
  if (csv) out << transfer::kCsvHeader << "\r\n";

  int64_t exported = 0;
  std::string cursor;
  Steady::time_point next_progress = Steady::now() + kProgressEvery;
  do {
    StatusOr<store::VisitPage> page =
        store::ScanVisitsAndWait(*store, range->first, range->second, cursor, kExportPage);
    if (!page.ok()) {
      std::fprintf(stderr, "footfall: export: after %lld visits: %s\n",
                   static_cast<long long>(exported), page.status().ToString().c_str());
      if (!to_stdout) std::filesystem::remove(partial);
      return 1;
    }
    for (const store::Visit& visit : page->visits) {
      out << (csv ? transfer::VisitCsvRow(visit) : transfer::VisitJsonLine(visit));
    }
    exported += static_cast<int64_t>(page->visits.size());
    cursor = page->next_cursor;
    if (Steady::now() >= next_progress) {
      std::fprintf(stderr, "footfall: export: %lld visits...\n", static_cast<long long>(exported));
      next_progress = Steady::now() + kProgressEvery;
    }
  } while (!cursor.empty());
  out.flush();
  if (!out) {
    std::fprintf(stderr, "footfall: export: writing failed (disk full?)\n");
    if (!to_stdout) std::filesystem::remove(partial);
    return 1;
  }
  if (!to_stdout) {
    file.close();
    std::error_code error;
    std::filesystem::rename(partial, config.output, error);
    if (error) {
      std::fprintf(stderr, "footfall: export: cannot rename %s: %s\n", partial.c_str(),
                   error.message().c_str());
      return 1;
    }
  }
  std::fprintf(stderr, "footfall: exported %lld visits from %s\n", static_cast<long long>(exported),
               store->Describe().c_str());
  return 0;
}

CLI::App* AddImportCommand(CLI::App& app, ImportConfig& config) {
  CLI::App* command = app.add_subcommand(
      "import",
      "Record visits from a `footfall export` file (JSON Lines or CSV) or from GoatCounter's CSV "
      "export. Idempotent: visits already present are skipped, so an interrupted import can "
      "simply be run again.");
  command->add_option("input", config.input, "File to read, or - for stdin")->capture_default_str();
  command->add_option("--store", config.store, kStoreOptionHelp)->envname("FOOTFALL_STORE")->capture_default_str();
  command->add_option("--format", config.format,
                      "auto (from the first line), jsonl, csv (footfall's) or goatcounter")
      ->check(CLI::IsMember({"auto", "jsonl", "csv", "goatcounter"}))
      ->capture_default_str();
  command->add_option("--site", config.site,
                      "Site of GoatCounter visits (its export has none), e.g. me.example")
      ->envname("FOOTFALL_DEFAULT_SITE");
  command->add_option("--parallel", config.parallel,
                      "Visits written at once (group commit batches them on SQL stores; lower it "
                      "for a DynamoDB table with little capacity)")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  command->add_option("--retention-days", config.retention_days,
                      "Days a GoatCounter visit is kept after it happened")
      ->envname("FOOTFALL_RETENTION_DAYS")
      ->check(CLI::Range(1, 36500))
      ->capture_default_str();
  return command;
}

namespace {

// Records visits with a bounded number in flight and counts the outcomes.
class ImportWriter {
 public:
  ImportWriter(store::Store& store, int window) : store_(store), window_(window) {}

  // Waits for room, then starts recording `visit`. Returns false once any write has failed.
  bool Record(store::Visit visit) {
    std::unique_lock lock(mu_);
    changed_.wait(lock, [&] { return in_flight_ < window_ || !error_.ok(); });
    if (!error_.ok()) return false;
    ++in_flight_;
    lock.unlock();
    store_.RecordVisit(std::move(visit), store::kNoDeadline,
                       [this](StatusOr<store::RecordedVisit> recorded) {
                         std::lock_guard guard(mu_);
                         --in_flight_;
                         if (recorded.ok()) {
                           ++imported_;
                         } else if (recorded.status().code() == StatusCode::kAlreadyExists) {
                           ++present_;
                         } else if (error_.ok()) {
                           error_ = recorded.status();
                         }
                         changed_.notify_all();
                       });
    return true;
  }

  // Waits for every write; returns the first error, if any.
  Status Finish() {
    std::unique_lock lock(mu_);
    changed_.wait(lock, [&] { return in_flight_ == 0; });
    return error_;
  }

  std::pair<int64_t, int64_t> Counts() {
    std::lock_guard lock(mu_);
    return {imported_, present_};
  }

 private:
  store::Store& store_;
  const int window_;
  std::mutex mu_;
  std::condition_variable changed_;
  int in_flight_ = 0;      // guarded by mu_
  int64_t imported_ = 0;   // guarded by mu_
  int64_t present_ = 0;    // guarded by mu_
  Status error_;           // guarded by mu_
};

}  // namespace

int RunImport(const ImportConfig& config) {
  std::ifstream file;
  if (config.input != "-") {
    file.open(config.input, std::ios::binary);
    if (!file) {
      std::fprintf(stderr, "footfall: import: cannot read %s\n", config.input.c_str());
      return 2;
    }
  }
  std::istream& in = config.input == "-" ? std::cin : file;

  // The format, from the first bytes when not given.
  std::string format = config.format;
  if (format == "auto") {
    std::string start(transfer::kGoatCounterHeaderStart.size(), '\0');
    in.read(start.data(), static_cast<std::streamsize>(start.size()));
    start.resize(static_cast<size_t>(in.gcount()));
    in.clear();
    for (auto it = start.rbegin(); it != start.rend(); ++it) in.putback(*it);
    if (!in) {
      std::fprintf(stderr, "footfall: import: cannot re-read the start of the input\n");
      return 1;
    }
    if (start.starts_with("{")) {
      format = "jsonl";
    } else if (start.starts_with(transfer::kGoatCounterHeaderStart)) {
      format = "goatcounter";
    } else if (start.starts_with(transfer::kCsvHeader.substr(0, start.size())) && !start.empty()) {
      format = "csv";
    } else {
      std::fprintf(stderr,
                   "footfall: import: unknown format (expected footfall JSON Lines, footfall CSV "
                   "or GoatCounter's CSV export); say which with --format\n");
      return 2;
    }
  }
  if (format == "goatcounter" && config.site.empty()) {
    std::fprintf(stderr, "footfall: import: GoatCounter rows carry no site: give --site, e.g. --site me.example\n");
    return 2;
  }

  std::unique_ptr<store::Store> store = OpenOrReport(config.store);
  if (!store) return 1;
  ImportWriter writer(*store, config.parallel);
  std::map<std::string, int64_t> skipped;  // reason -> rows
  Status read_error;
  int64_t record_line = 0;
  Steady::time_point next_progress = Steady::now() + kProgressEvery;
  const auto progress = [&] {
    if (Steady::now() < next_progress) return;
    auto [imported, present] = writer.Counts();
    std::fprintf(stderr, "footfall: import: %lld imported, %lld already present...\n",
                 static_cast<long long>(imported), static_cast<long long>(present));
    next_progress = Steady::now() + kProgressEvery;
  };

  if (format == "jsonl") {
    std::string line;
    while (read_error.ok() && std::getline(in, line)) {
      ++record_line;
      if (line.empty() || line == "\r") continue;
      StatusOr<store::Visit> visit = transfer::VisitFromJsonLine(line);
      if (!visit.ok()) {
        read_error = visit.status();
        break;
      }
      if (!writer.Record(*std::move(visit))) break;
      progress();
    }
  } else {
    transfer::CsvReader reader(in);
    std::vector<std::string> fields;
    StatusOr<bool> header = reader.Next(fields);
    if (!header.ok()) read_error = header.status();
    const bool goatcounter = format == "goatcounter";
    if (read_error.ok() && *header) {
      const std::string_view expected = goatcounter ? transfer::kGoatCounterHeaderStart : transfer::kCsvHeader;
      std::string joined;
      for (size_t i = 0; i < fields.size(); ++i) joined += (i ? "," : "") + fields[i];
      if (goatcounter ? !joined.starts_with(expected) : !transfer::IsOurCsvHeader(joined)) {
        read_error = InvalidArgumentError("the header is not " + std::string(expected) +
                                          (goatcounter ? "... (GoatCounter export version 2)" : ""));
      }
    }
    std::map<std::string, int> occurrences;  // identical rows within the current Date
    std::string occurrence_date;
    while (read_error.ok()) {
      StatusOr<bool> more = reader.Next(fields);
      if (!more.ok()) {
        read_error = more.status();
        break;
      }
      if (!*more) break;
      record_line = reader.record_line();
      StatusOr<store::Visit> visit = InvalidArgumentError("unreached");
      if (goatcounter) {
        std::string key;
        for (const std::string& field : fields) key += field + '\n';
        if (fields.size() > 13 && fields[13] != occurrence_date) {
          occurrences.clear();
          occurrence_date = fields[13];
        }
        StatusOr<transfer::GoatCounterVisit> row = transfer::VisitFromGoatCounter(
            fields, config.site, config.retention_days, occurrences[key]++);
        if (!row.ok()) {
          read_error = row.status();
          break;
        }
        if (!row->visit) {
          ++skipped[std::string(row->skipped_because)];
          continue;
        }
        visit = *std::move(row->visit);
      } else {
        visit = transfer::VisitFromCsvFields(fields);
      }
      if (!visit.ok()) {
        read_error = visit.status();
        break;
      }
      if (!writer.Record(*std::move(visit))) break;
      progress();
    }
  }
  const Status write_error = writer.Finish();
  auto [imported, present] = writer.Counts();
  std::string skipped_text;
  for (const auto& [reason, rows] : skipped) {
    skipped_text += ", " + std::to_string(rows) + " skipped (" + reason + ")";
  }
  std::fprintf(stderr, "footfall: import: %lld imported, %lld already present%s into %s\n",
               static_cast<long long>(imported), static_cast<long long>(present),
               skipped_text.c_str(), store->Describe().c_str());
  if (!read_error.ok() || !write_error.ok()) {
    const std::string where = read_error.ok() ? std::string("store")
                              : read_error.message().starts_with("line ")
                                  ? std::string("input")
                                  : "input line " + std::to_string(record_line);
    std::fprintf(stderr,
                 "footfall: import stopped: %s: %s. Everything before it is stored; fix the "
                 "problem and run the same import again (visits already present are skipped).\n",
                 where.c_str(),
                 (read_error.ok() ? write_error.ToString() : read_error.message()).c_str());
    return 1;
  }
  return 0;
}

CLI::App* AddStatsCommand(CLI::App& app, StatsConfig& config) {
  CLI::App* command = app.add_subcommand(
      "stats", "Print a site's statistics (the numbers of GET /api/stats) as tables, or as JSON.");
  command->add_option("--store", config.store, kStoreOptionHelp)->envname("FOOTFALL_STORE")->capture_default_str();
  command->add_option("--site", config.site,
                      "Site (default: as serve: the host of the first allowed origin, else localhost)")
      ->envname("FOOTFALL_DEFAULT_SITE");
  command->add_option("--allowed-origins", config.allowed_origins, "Only to find the default site")
      ->envname("FOOTFALL_ALLOWED_ORIGINS");
  command->add_option("--from", config.from, "First day or time (default: 30 days ago)");
  command->add_option("--to", config.to, "Last day (included) or end time (default: now)");
  command->add_option("--interval", config.interval, "day or hour")
      ->check(CLI::IsMember({"day", "hour"}))
      ->capture_default_str();
  command->add_option("--path", config.path, "One page path (default: the whole site)");
  command->add_option("--top", config.top, "Entries per list")->check(CLI::Range(1, 100))->capture_default_str();
  command->add_option("--event", config.event, "Also list the properties of this custom event");
  command->add_option("--goals", config.goals,
                      "The goals serve was given (as its --goals): each is listed, reached or not")
      ->envname("FOOTFALL_GOALS");
  command->add_flag("--json", config.json, "Print the JSON of GET /api/stats instead of tables");
  return command;
}

namespace {

void PrintList(const std::string& title, const std::vector<store::NamedCount>& list,
               bool visitors, const char* what = "views") {
  if (list.empty()) return;
  std::printf("\n%-40s %10s%s\n", title.c_str(), what, visitors ? "  visitor-days" : "");
  for (const store::NamedCount& entry : list) {
    std::printf("%-40s %10lld", entry.name.empty() ? "(none)" : entry.name.c_str(),
                static_cast<long long>(entry.views));
    if (visitors) std::printf("  %12lld", static_cast<long long>(entry.visitor_days));
    std::printf("\n");
  }
}

// Referrer hosts, with the readable name of a well-known one: "news.ycombinator.com (Hacker News)".
std::vector<store::NamedCount> NamedReferrers(std::vector<store::NamedCount> referrers) {
  for (store::NamedCount& referrer : referrers) referrer.name = core::ReferrerLabel(referrer.name);
  return referrers;
}

void PrintGoals(const store::StatsQuery& query, const store::Stats& stats) {
  if (stats.goals.empty()) return;
  std::printf("\n%-40s %10s  %12s  %10s\n", "goals", "count", "visitor-days", "conversion");
  for (const store::NamedCount& goal : stats.goals) {
    std::printf("%-40s %10lld  %12lld  ", goal.name.c_str(), static_cast<long long>(goal.views),
                static_cast<long long>(goal.visitor_days));
    if (query.path.empty()) {
      std::printf("%9.1f%%\n", 100 * core::ConversionRate(goal, stats));
    } else {
      std::printf("%10s\n", "-");  // a page's visitor-days are not the site's
    }
  }
}

}  // namespace

int RunStats(const StatsConfig& config) {
  core::QueryParameters params = {{"interval", config.interval}, {"top", std::to_string(config.top)}};
  if (!config.from.empty()) params.emplace_back("from", config.from);
  if (!config.to.empty()) params.emplace_back("to", config.to);
  if (!config.path.empty()) params.emplace_back("path", config.path);
  if (!config.event.empty()) params.emplace_back("event", config.event);
  StatusOr<core::Goals> goals = core::Goals::Parse(config.goals);
  if (!goals.ok()) {
    std::fprintf(stderr, "footfall: stats: --goals: %s\n", goals.status().message().c_str());
    return 2;
  }
  const std::string site = core::DefaultSite(config.site, SplitList(config.allowed_origins));
  StatusOr<store::StatsQuery> query = core::ParseStatsQuery(params, SystemClock().Now(), site);
  if (!query.ok()) {
    std::fprintf(stderr, "footfall: stats: %s\n", query.status().message().c_str());
    return 2;
  }
  std::unique_ptr<store::Store> store = OpenOrReport(config.store);
  if (!store) return 1;
  StatusOr<store::Stats> stats = store::Wait<store::Stats>([&](store::Callback<store::Stats> done) {
    store->QueryStats(*query, store::kNoDeadline, std::move(done));
  });
  if (!stats.ok()) {
    std::fprintf(stderr, "footfall: stats: %s\n", stats.status().ToString().c_str());
    return 1;
  }
  core::ListConfiguredGoals(*goals, *stats);
  if (config.json) {
    std::printf("%s\n", core::FormatStatsJson(*query, *stats).c_str());
    return 0;
  }
  const bool hourly = query->interval == store::Interval::kHour;
  std::printf("%s%s, %s .. %s (UTC)\n", query->site.c_str(),
              query->path.empty() ? "" : (" " + query->path).c_str(),
              FormatUtcMillis(query->from_ms).substr(0, 16).c_str(),
              FormatUtcMillis(query->to_ms).substr(0, 16).c_str());
  std::printf("views %lld   visitor-days %lld   peak daily visitors %lld\n",
              static_cast<long long>(stats->views), static_cast<long long>(stats->visitor_days),
              static_cast<long long>(stats->peak_daily_visitors));
  std::printf("(visitors are recognised within one UTC day only: visitor-days sum daily uniques)\n");
  std::printf("\n%-17s %10s %13s\n", hourly ? "hour" : "day", "views", "new visitors");
  for (const store::SeriesPoint& point : stats->series) {
    std::printf("%-17s %10lld %13lld\n",
                FormatUtcMillis(point.start_ms).substr(0, hourly ? 16 : 10).c_str(),
                static_cast<long long>(point.views), static_cast<long long>(point.new_visitors));
  }
  PrintList("top paths", stats->paths, true);
  PrintList("referrers", NamedReferrers(stats->referrers), false);
  PrintList("browsers", stats->browsers, false);
  PrintList("systems", stats->systems, false);
  PrintList("devices", stats->devices, false);
  PrintList("screens", stats->screens, false);
  PrintList("sources (Origin header)", stats->sources, false);
  PrintList("not counted, by reason", stats->drops, false);
  PrintList("custom events", stats->events, true, "count");
  for (const auto& [key, values] : stats->props) {
    PrintList(query->event + ": " + key, values, true, "count");
  }
  PrintGoals(*query, *stats);
  PrintList("campaign sources (utm_source)", stats->campaign_sources, false);
  PrintList("campaign mediums (utm_medium)", stats->campaign_mediums, false);
  PrintList("campaigns (utm_campaign)", stats->campaign_names, false);
  PrintList("campaign contents (utm_content)", stats->campaign_contents, false);
  PrintList("campaign terms (utm_term)", stats->campaign_terms, false);
  return 0;
}

}  // namespace footfall::cli
