// libFuzzer target: arbitrary bytes as an import file (transfer/visit_records.h): as one JSON line
// (VisitFromJsonLine), and as CSV (CsvReader over every record, each record through
// VisitFromCsvFields and VisitFromGoatCounter). Every visit that parses must survive our own
// export formats unchanged: VisitJsonLine -> VisitFromJsonLine and VisitCsvRow -> CsvReader ->
// VisitFromCsvFields (for a GoatCounter visit: all but the browser, OS and device families).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "transfer/visit_records.h"

namespace {

using footfall::store::Visit;
namespace transfer = footfall::transfer;

void Check(bool condition) {
  if (!condition) std::abort();
}

// Our formats carry the user agent, not the families derived from it; a GoatCounter visit has no
// user agent, so its families (from GoatCounter's browser and system columns) do not come back.
enum class Derived { kCompare, kIgnore };

bool Same(const Visit& a, const Visit& b, Derived derived) {
  return a.visit_id == b.visit_id && a.timestamp == b.timestamp && a.visitor == b.visitor &&
         a.user_agent == b.user_agent && a.path == b.path && a.referrer == b.referrer &&
         a.site == b.site && a.expiration_time == b.expiration_time && a.time_ms == b.time_ms &&
         a.screen == b.screen &&
         (derived == Derived::kIgnore || (a.browser == b.browser && a.os == b.os && a.device == b.device));
}

void CheckRoundTrips(const Visit& visit, Derived derived = Derived::kCompare) {
  const std::string line = transfer::VisitJsonLine(visit);
  Check(!line.empty() && line.back() == '\n');
  auto from_json = transfer::VisitFromJsonLine(std::string_view(line).substr(0, line.size() - 1));
  Check(from_json.ok() && Same(*from_json, visit, derived));

  std::istringstream csv(transfer::VisitCsvRow(visit));
  transfer::CsvReader reader(csv);
  std::vector<std::string> fields;
  auto more = reader.Next(fields);
  Check(more.ok() && *more);
  auto from_csv = transfer::VisitFromCsvFields(fields);
  Check(from_csv.ok() && Same(*from_csv, visit, derived));
  more = reader.Next(fields);
  Check(more.ok() && !*more);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  if (auto visit = transfer::VisitFromJsonLine(input); visit.ok()) CheckRoundTrips(*visit);

  std::istringstream in{std::string(input)};
  transfer::CsvReader reader(in);
  std::vector<std::string> fields;
  for (int occurrence = 0;; ++occurrence) {
    auto more = reader.Next(fields);
    if (!more.ok() || !*more) break;
    Check(!fields.empty() && fields.size() <= transfer::kMaxCsvFields);
    if (auto visit = transfer::VisitFromCsvFields(fields); visit.ok()) CheckRoundTrips(*visit);
    auto goat = transfer::VisitFromGoatCounter(fields, "site.example", 30, occurrence);
    if (goat.ok() && goat->visit) {
      CheckRoundTrips(*goat->visit, Derived::kIgnore);
    } else if (goat.ok()) {
      Check(goat->skipped_because == "event" || goat->skipped_because == "bot");
    }
  }
  return 0;
}
