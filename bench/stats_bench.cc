// `make bench` part: how fast a 30-day statistics query answers on SQLite over 10 million
// recorded visits, side by side with the reference a store without write-time aggregates would
// need (the same numbers computed from the raw visits with SQL). Prints both times and the
// ratio. The database is built once through the real Store API (group commit, aggregates in the
// same transactions) and kept under the given directory for later runs. One record in five is a
// custom event (5 names, 2 properties of 3 and 50 values), one page view in ten comes with a
// campaign, and page views of /page/1* reach a goal; the query with ?event= is timed too.
//
// Usage: stats_bench DIR [VISITS]     (VISITS default 10000000)
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "base/utc_time.h"
#include "store/blocking.h"
#include "store/sqlite/sqlite_store.h"

using namespace footfall;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int64_t kEndMs = 1'795'564'800'000;  // 2026-11-25T00:00:00Z: the 30 days end here
constexpr int64_t kDays = 30;

double Millis(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// Records `count` synthetic visits spread over the 30 days with a bounded window in flight.
void Load(store::Store& store, int64_t count) {
  std::mt19937_64 rng(42);
  const char* browsers[] = {"Chrome", "Firefox", "Safari", "Edge", "Other"};
  const char* systems[] = {"Windows", "macOS", "Linux", "Android", "iOS"};
  const char* devices[] = {"desktop", "mobile", "tablet"};
  std::mutex mu;
  std::condition_variable cv;
  int64_t in_flight = 0, failed = 0;
  const auto started = Clock::now();
  for (int64_t i = 0; i < count; ++i) {
    store::Visit visit;
    const int64_t time_ms = kEndMs - kDays * kDayMs + (i * (kDays * kDayMs / count));
    char id[64];
    std::snprintf(id, sizeof id, "%08llx-%04llx-7000-8000-%012llx",
                  static_cast<unsigned long long>(time_ms >> 16),
                  static_cast<unsigned long long>(time_ms & 0xffff), static_cast<unsigned long long>(i));
    visit.visit_id = id;
    visit.time_ms = time_ms;
    visit.timestamp = FormatUtcMillis(time_ms);
    char visitor[64];
    std::snprintf(visitor, sizeof visitor, "%032llx", static_cast<unsigned long long>(rng() % 20000));
    visit.visitor = visitor;
    visit.user_agent = "Mozilla/5.0";
    visit.path = "/page/" + std::to_string(rng() % 200);
    visit.referrer = rng() % 3 == 0 ? "ref" + std::to_string(rng() % 50) + ".example" : "";
    visit.site = "bench.example";
    visit.expiration_time = 4'102'444'800;  // 2100: never pruned by the bench
    visit.browser = browsers[rng() % 5];
    visit.os = systems[rng() % 5];
    visit.device = devices[rng() % 3];
    visit.screen = rng() % 2 ? "1440+" : "<600";
    if (i % 5 == 4) {
      const char* events[] = {"Signup", "Download", "Outbound Link: Click", "Share", "Play"};
      const char* plans[] = {"free", "pro", "team"};
      visit.event = events[rng() % 5];
      visit.props = {{"id", "item-" + std::to_string(rng() % 50)}, {"plan", plans[rng() % 3]}};
      if (visit.event == "Signup") visit.goals = {"event:Signup"};
    } else {
      if (rng() % 10 == 0) {
        const char* mediums[] = {"email", "social", "cpc", "referral", "print"};
        visit.campaign = {"source" + std::to_string(rng() % 20), mediums[rng() % 5],
                          "campaign" + std::to_string(rng() % 10), "", ""};
      }
      if (visit.path.starts_with("/page/1")) visit.goals = {"page:/page/1*"};
    }
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return in_flight < 16384; });
      ++in_flight;
    }
    store.RecordVisit(std::move(visit), store::kNoDeadline, [&](StatusOr<store::RecordedVisit> r) {
      std::lock_guard lock(mu);
      --in_flight;
      if (!r.ok()) ++failed;
      cv.notify_all();
    });
    if (i > 0 && i % 1'000'000 == 0) {
      std::fprintf(stderr, "stats_bench: loaded %lld visits (%.0f/s)\n", static_cast<long long>(i),
                   i / (Millis(Clock::now() - started) / 1000));
    }
  }
  std::unique_lock lock(mu);
  cv.wait(lock, [&] { return in_flight == 0; });
  if (failed > 0) {
    std::fprintf(stderr, "stats_bench: %lld visits failed to load\n", static_cast<long long>(failed));
    std::exit(1);
  }
}

// The reference: the same day series, top paths and daily uniques from the raw visits.
double RawQueryMillis(const std::string& path) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  const std::string from = FormatUtcMillis(kEndMs - kDays * kDayMs), to = FormatUtcMillis(kEndMs);
  const std::string sql[] = {
      "SELECT substr(timestamp, 1, 10) d, count(*), count(DISTINCT visitor) FROM visits WHERE site = "
      "'bench.example' AND timestamp >= '" + from + "' AND timestamp < '" + to + "' GROUP BY d",
      "SELECT path, count(*) c FROM visits WHERE site = 'bench.example' AND timestamp >= '" + from +
      "' AND timestamp < '" + to + "' GROUP BY path ORDER BY c DESC LIMIT 10",
  };
  const auto started = Clock::now();
  for (const std::string& query : sql) {
    sqlite3_stmt* statement = nullptr;
    sqlite3_prepare_v2(db, query.c_str(), -1, &statement, nullptr);
    while (sqlite3_step(statement) == SQLITE_ROW) {
    }
    sqlite3_finalize(statement);
  }
  const double elapsed = Millis(Clock::now() - started);
  sqlite3_close(db);
  return elapsed;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: stats_bench DIR [VISITS]\n");
    return 2;
  }
  const int64_t visits = argc > 2 ? std::atoll(argv[2]) : 10'000'000;
  // v4: with custom events, properties, goals and campaigns (schema version 4).
  const std::string path = std::string(argv[1]) + "/stats-v4-" + std::to_string(visits) + ".db";
  const bool fresh = !std::filesystem::exists(path);
  StatusOr<std::unique_ptr<store::sqlite::SqliteStore>> opened = store::sqlite::SqliteStore::Open({.path = path});
  if (!opened.ok()) {
    std::fprintf(stderr, "stats_bench: %s\n", opened.status().ToString().c_str());
    return 1;
  }
  store::Store& store = **opened;
  if (fresh) {
    const auto started = Clock::now();
    Load(store, visits);
    std::printf("loaded %lld visits through RecordVisit in %.1f s\n", static_cast<long long>(visits),
                Millis(Clock::now() - started) / 1000);
  }
  // Every fifth record is a custom event, which the counter does not count.
  const int64_t page_views = visits - visits / 5;
  if (StatusOr<int64_t> total = store::ReadTotalAndWait(store); !total.ok() || *total < page_views) {
    std::fprintf(stderr, "stats_bench: the database holds fewer than %lld page views; delete %s\n",
                 static_cast<long long>(page_views), path.c_str());
    return 1;
  }
  store::StatsQuery query;
  query.site = "bench.example";
  query.from_ms = kEndMs - kDays * kDayMs;
  query.to_ms = kEndMs;
  // Times `query` 21 times; returns the sorted times and the last answer.
  auto time_query = [&store](const store::StatsQuery& query, store::Stats& last) {
    std::vector<double> times;
    for (int i = 0; i < 21; ++i) {
      const auto started = Clock::now();
      StatusOr<store::Stats> stats = store::Wait<store::Stats>(
          [&](store::Callback<store::Stats> done) { store.QueryStats(query, store::kNoDeadline, std::move(done)); });
      times.push_back(Millis(Clock::now() - started));
      if (!stats.ok()) {
        std::fprintf(stderr, "stats_bench: %s\n", stats.status().ToString().c_str());
        std::exit(1);
      }
      last = *std::move(stats);
    }
    std::sort(times.begin(), times.end());
    return times;
  };
  store::Stats stats;
  const std::vector<double> times = time_query(query, stats);
  const int64_t views = stats.views;
  if (stats.events.size() != 5 || stats.campaign_sources.empty() || stats.goals.size() != 2) {
    std::fprintf(stderr, "stats_bench: the answer lacks the events, goals or campaigns loaded\n");
    return 1;
  }
  query.event = "Signup";
  const std::vector<double> event_times = time_query(query, stats);
  if (stats.props.size() != 2) {
    std::fprintf(stderr, "stats_bench: the answer lacks Signup's properties\n");
    return 1;
  }
  const double raw = RawQueryMillis(path);
  std::printf("30-day stats over %lld visits (views %lld): median %.2f ms, max %.2f ms (target < 50 ms)\n",
              static_cast<long long>(visits), static_cast<long long>(views), times[times.size() / 2],
              times.back());
  std::printf("the same with one event's properties (?event=Signup): median %.2f ms, max %.2f ms\n",
              event_times[event_times.size() / 2], event_times.back());
  std::printf("reference, the same from raw visits in SQL: %.0f ms  (ratio %.0fx)\n", raw,
              raw / times[times.size() / 2]);
  return times[times.size() / 2] < 50 && event_times[event_times.size() / 2] < 50 ? 0 : 3;
}
