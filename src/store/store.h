// Store: where visits and the total counter live. One implementation per engine (SQLite,
// PostgreSQL, DynamoDB, and memory for tests), opened by URI with OpenStore(); decorators derive
// from ForwardingStore (forwarding_store.h).
//
// Every call is asynchronous and calls `done` exactly once, on one of two threads:
// - before the call returns, on the caller's thread: the memory store always, and every engine
//   for an error found up front (an invalid stats query, say);
// - later, on a thread the store owns: SQLite's and PostgreSQL's writer or reader thread,
//   DynamoDB's HTTP client thread.
// So a caller must not hold, across the call, a lock that `done` takes, and `done` must not
// block for long (adapters post the result back to their own executor).
// Deadlines: DynamoDB stops retrying at `deadline` and fails with kDeadlineExceeded; PostgreSQL
// bounds each transaction by its own 6 s answer timeout (postgres_session.h) and SQLite each
// write by its 5 s busy timeout, whatever `deadline` says; the memory store ignores it. Callers
// that need a bound on a local engine get it from those timeouts.
// Implementations are safe for concurrent callers. Destroying a Store completes every queued call
// (committing accepted writes) before returning, so no callback is lost. A failing engine answers
// every call with an error a caller can act on (kUnavailable, kDeadlineExceeded,
// kResourceExhausted) within its bound. tests/store_contract_test.cc checks all of this on every
// engine.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace footfall::store {

// The campaign parameters of a visited page (utm_source, or GoatCounter's ref/source, …):
// trimmed, lower-cased, at most 128 bytes each; "" when absent.
struct Campaign {
  std::string source, medium, name, content, term;
  bool empty() const {
    return source.empty() && medium.empty() && name.empty() && content.empty() && term.empty();
  }
};

// One recorded visit: the seed's table design with privacy fixes (see docs/design.md).
struct Visit {
  std::string visit_id;     // UUIDv7, unique and time-ordered
  std::string timestamp;    // ISO 8601 UTC with milliseconds, e.g. 2026-11-25T13:20:03.123Z
  std::string visitor;      // keyed hash under today's salt; never an address
  std::string user_agent;   // sanitised and truncated
  std::string path;         // normalised page path, e.g. "/blog/post"
  std::string referrer;     // referrer host or ""
  std::string site;         // host of the site the visit belongs to
  int64_t expiration_time = 0;  // epoch seconds after which the visit may be deleted
  // For the aggregates maintained at write time (never a visitor identifier):
  int64_t time_ms = 0;      // Unix milliseconds of `timestamp`
  std::string browser;      // family, e.g. "Firefox"
  std::string os;           // family, e.g. "Android"
  std::string device;       // "desktop", "mobile", "tablet", "unknown"
  std::string screen;       // screen-size class, e.g. "1024-1439", or "" (unknown)
  std::string source;       // "origin" (a page of an allowed origin sent it), "no_origin" or ""
  // A custom event ("" = a page view, the seed's visit). A custom event is not a page view: it
  // does not move the total counter, the page counters or `views`. Stored with the raw visit.
  std::string event;
  // The event's properties, sorted by key (at most 10; see core/event_body.h for the limits).
  // Stored with the raw visit.
  std::vector<std::pair<std::string, std::string>> props;
  // Campaign (UTM) values of the visited page, normalised; aggregate dimensions only: never
  // stored with the raw visit on the SQL engines (see docs/design.md).
  Campaign campaign;
  // The configured goals this visit reached ("event:signup", "page:/docs/*"), worked out when it
  // was recorded; aggregates only.
  std::vector<std::string> goals;

  bool is_page_view() const { return event.empty(); }
};

// How a statistics range is bucketed.
enum class Interval { kHour, kDay };

// A statistics question: [from_ms, to_ms) for one site, optionally one page path.
struct StatsQuery {
  std::string site;
  int64_t from_ms = 0;    // inclusive; rounded down to the hour
  int64_t to_ms = 0;      // exclusive; rounded up to the hour
  Interval interval = Interval::kDay;
  std::string path;       // "" for the whole site
  int top = 10;           // entries per top list, 1..100
  std::string event;      // a custom event whose properties to list ("" = none)
};

struct NamedCount {
  std::string name;
  int64_t views = 0;
  int64_t visitor_days = 0;  // distinct visitors per UTC day, summed over the days (0 if n/a)
};

struct SeriesPoint {
  int64_t start_ms = 0;
  int64_t views = 0;
  int64_t new_visitors = 0;  // visitors seen for the first time that UTC day in this bucket
};

// The answer to a StatsQuery. Uniques are per UTC day (the visitor hash changes daily, by
// design): `visitor_days` sums daily uniques over the range — it is not a count of people.
struct Stats {
  int64_t views = 0;
  int64_t visitor_days = 0;
  int64_t peak_daily_visitors = 0;
  std::vector<SeriesPoint> series;  // every bucket of the range, zeros included
  std::vector<NamedCount> paths, referrers, browsers, systems, devices, screens;  // top N by views
  std::vector<NamedCount> sources;  // "origin" / "no_origin" (curl, scripts, same-origin GETs)
  std::vector<NamedCount> drops;    // name = reason, views = requests dropped
  // Custom events (views = times it happened), top N; goals reached (name = the goal as
  // configured), every goal with a count; the properties of StatsQuery::event, key -> top N values.
  std::vector<NamedCount> events, goals;
  std::map<std::string, std::vector<NamedCount>> props;
  // Campaign dimensions, top N each: utm_source (with ref/source), utm_medium, utm_campaign,
  // utm_content, utm_term.
  std::vector<NamedCount> campaign_sources, campaign_mediums, campaign_names, campaign_contents,
      campaign_terms;
};

// One page of stored raw visits, for export.
struct VisitPage {
  // time_ms, screen and source are set; browser/os/device are not stored with the raw visit and are
  // left empty (derive them from user_agent).
  std::vector<Visit> visits;
  std::string next_cursor;  // pass to the next ScanVisits call; "" when there is nothing more
};

// The most visits one ScanVisits call returns.
inline constexpr int kMaxScanLimit = 10000;

// The result of recording one visit.
struct RecordedVisit {
  int64_t total = 0;      // the total counter right after this visit was added; 0 for a custom
                          // event, which is not counted
  int batch_size = 1;     // how many visits were committed in the same transaction
};

// A daily salt: 32 random bytes.
using Salt = std::array<uint8_t, 32>;

// When a call must have completed. Engines that talk to a network stop retrying and fail with
// kDeadlineExceeded after it; local engines may ignore it.
using Deadline = std::chrono::steady_clock::time_point;
inline constexpr Deadline kNoDeadline = Deadline::max();

template <typename T>
using Callback = std::function<void(StatusOr<T>)>;
using StatusCallback = std::function<void(Status)>;

class Store {
 public:
  Store() = default;
  virtual ~Store() = default;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Durably stores `visit` and, for a page view, adds one to the total counter in the same
  // transaction, then calls done with the new total. Errors: kUnavailable (engine busy/unreachable; retryable),
  // kResourceExhausted (disk full or queue full), kAlreadyExists (duplicate visit_id),
  // kDeadlineExceeded, kInternal. On any error nothing of the visit is stored, except that a
  // network engine may report kDeadlineExceeded/kUnavailable for a write whose fate it cannot know
  // (see that engine's header).
  virtual void RecordVisit(Visit visit, Deadline deadline, Callback<RecordedVisit> done) = 0;

  // Reads the total counter (0 when nothing was ever recorded). Errors: kUnavailable, kInternal.
  virtual void ReadTotal(Deadline deadline, Callback<int64_t> done) = 0;

  // Returns the salt stored for `day` (days since the Unix epoch), storing `candidate` first if
  // that day has none yet, so that every process sharing the store agrees on it. Deletes the salts
  // of days before `day - 1` (a salt lives at most 48 h). Errors: kUnavailable, kInternal.
  virtual void GetOrCreateDailySalt(int64_t day, Salt candidate, Deadline deadline,
                                    Callback<Salt> done) = 0;

  // Deletes the salts of days before `first_kept_day` and what is kept only while they live (the
  // "seen" marks of the SQL engines), so that no stored visitor hash can be recomputed from an
  // address any more; the engine also makes the deleted bytes unrecoverable from its own files
  // where it can (see each engine's header). Called by maintenance, whatever the traffic; calls
  // done with how many salts were deleted (an engine that cannot tell answers 0). Errors:
  // kUnavailable (retry later), kInternal.
  virtual void DeleteSaltsBefore(int64_t first_kept_day, Deadline deadline,
                                 Callback<int64_t> done) = 0;

  // Counts one request that was not recorded as a visit (a bot, a prefetch, a foreign origin, …)
  // under `reason` for `site` on the UTC day of `time_ms`. Errors: kUnavailable, kInternal,
  // kUnimplemented (engines without aggregates yet).
  virtual void RecordDrop(std::string site, int64_t time_ms, std::string reason,
                          Deadline deadline, StatusCallback done) = 0;

  // Answers `query` from the aggregates (no raw visits are read). Errors: kUnavailable,
  // kInternal, kUnimplemented (engines without aggregates yet).
  virtual void QueryStats(StatsQuery query, Deadline deadline, Callback<Stats> done) = 0;

  // Reads the views of one page path ("" = the whole site) of `site`, ever recorded (from the
  // aggregates; pruning does not lower it). Errors: kUnavailable, kInternal, kUnimplemented.
  virtual void ReadPageViews(std::string site, std::string path, Deadline deadline,
                             Callback<int64_t> done) = 0;

  // Reads stored raw visits (all sites) whose time is in [from_ms, to_ms): at most `limit`
  // (1..10000) per call, continuing after `cursor` ("" = from the start; otherwise a
  // next_cursor this engine returned). SQL engines return visits in visit_id (= time) order;
  // DynamoDB in its scan order. Errors: kInvalidArgument (bad limit or cursor), kUnavailable,
  // kInternal.
  virtual void ScanVisits(int64_t from_ms, int64_t to_ms, std::string cursor, int limit,
                          Deadline deadline, Callback<VisitPage> done) = 0;

  // Deletes raw visits whose expiration_time is before `now_seconds` (the retention period);
  // aggregates, which hold no visitor identifier, stay. Calls done with how many were deleted.
  // DynamoDB leaves this to its TTL and answers 0. Errors: kUnavailable, kInternal.
  virtual void PruneExpired(int64_t now_seconds, Deadline deadline, Callback<int64_t> done) = 0;

  // Checks that the engine answers a trivial query. Errors: kUnavailable, kInternal.
  virtual void CheckReady(Deadline deadline, StatusCallback done) = 0;

  // A short description for start-up logs, e.g. "sqlite:data/footfall.db". Never has secrets.
  virtual std::string Describe() const = 0;
};

}  // namespace footfall::store
