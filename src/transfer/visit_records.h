// The record formats of `footfall export` and `footfall import`: one raw visit per JSON line or
// CSV row (our own format, lossless for what a store keeps), and GoatCounter's CSV export
// (version 2) as an import source. Pure functions and a streaming CSV reader; no store access.
// Thread-compatible: a CsvReader is used by one thread at a time; the functions are thread-safe.
#pragma once

#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "store/store.h"

namespace footfall::transfer {

// Limits on untrusted import input.
inline constexpr size_t kMaxRecordBytes = 64 * 1024;  // one JSON line or CSV record
inline constexpr size_t kMaxCsvFields = 64;

// The columns of our CSV, in order (also the keys of a JSON line).
inline constexpr std::string_view kCsvHeader =
    "visit_id,timestamp,visitor,user_agent,path,referrer,site,expiration_time,screen,source,event,"
    "props";
// Whether `header` (a CSV header line's fields joined by commas) is ours: kCsvHeader, or what an
// older footfall wrote (its first 8 or 10 columns).
bool IsOurCsvHeader(std::string_view header);
// How GoatCounter's version-2 CSV export starts.
inline constexpr std::string_view kGoatCounterHeaderStart = "2Path,Title,Event,UserAgent";

// One visit as a JSON object on one line ("\n"-terminated), keys as in kCsvHeader ("props" an
// object; in CSV, its JSON text, "" for none).
std::string VisitJsonLine(const store::Visit& visit);
// One visit as a CSV row ("\r\n"-terminated, RFC 4180 quoting where needed).
std::string VisitCsvRow(const store::Visit& visit);

// Reads RFC 4180 records (quoted fields may hold commas, quotes and newlines; "\n" or "\r\n"
// line ends; blank lines skipped). Errors (kInvalidArgument, naming the line): a record over
// kMaxRecordBytes or kMaxCsvFields, an unterminated quote, text after a closing quote.
class CsvReader {
 public:
  explicit CsvReader(std::istream& in) : in_(in) {}
  // Fills `fields` with the next record; returns false at the end of the input.
  StatusOr<bool> Next(std::vector<std::string>& fields);
  // The line on which the last record returned started (1-based).
  int64_t record_line() const { return record_line_; }

 private:
  std::istream& in_;
  int64_t line_ = 1;
  int64_t record_line_ = 0;
};

// Checks a raw visit record that comes from outside (an import line, a DynamoDB stream record) as
// `footfall serve` checks what it records (UUID id, timestamp, path, sanitised user agent, bounded
// fields) and completes it with time_ms and the browser/OS/device classes derived from the user
// agent. Errors: kInvalidArgument naming the field (never quoting its value).
StatusOr<store::Visit> CheckedVisit(store::Visit visit);

// A visit read back from our JSON line or CSV fields, checked as `footfall serve` checks what it
// records (UUID id, timestamp, path, sanitised user agent, bounded fields) and completed with
// time_ms and the browser/OS/device classes derived from the user agent.
// Errors: kInvalidArgument naming the field.
StatusOr<store::Visit> VisitFromJsonLine(std::string_view line);
StatusOr<store::Visit> VisitFromCsvFields(const std::vector<std::string>& fields);

// What a GoatCounter row becomes.
struct GoatCounterVisit {
  std::optional<store::Visit> visit;  // absent for rows that are not page views
  std::string_view skipped_because;   // "event" or "bot" when `visit` is absent
};

// Converts one row of GoatCounter's CSV export (version 2; see docs/operations.md) to a visit of
// `site` that expires `retention_days` after it happened. GoatCounter keeps no user agent: the
// browser and system columns give the families, the screen size the device class, and the
// visitor is a hash of the session id. `occurrence` tells identical rows apart (0 for the first
// row with these fields, 1 for the next, ...), so that importing the same file twice gives the
// same visit ids. Errors: kInvalidArgument naming the column.
StatusOr<GoatCounterVisit> VisitFromGoatCounter(const std::vector<std::string>& fields,
                                                const std::string& site, int retention_days,
                                                int occurrence);

}  // namespace footfall::transfer
