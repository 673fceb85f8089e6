// The statistics API's request parsing and JSON answer (GET /api/stats). Pure; thread-safe.
#pragma once

#include <string>

#include "base/clock.h"
#include "base/status.h"
#include "core/goals.h"
#include "core/url.h"
#include "store/store.h"

namespace footfall::core {

// Builds a StatsQuery from the query parameters:
//   from, to   "YYYY-MM-DD" (UTC day; a date-only `to` includes that whole day) or
//              "YYYY-MM-DDTHH:MM:SS[.mmm]Z"; default: the 30 days up to now
//   interval   "hour" or "day" (default)
//   path       a page path ("" or absent: the whole site)
//   site       default: `default_site`
//   top        entries per list, 1..100 (default 10)
//   event      a custom event whose properties to list (also "pageview")
// The result is checked with store::ValidateStatsQuery (bounded ranges and lists).
// Errors: kInvalidArgument with a message fit for the client (it names the parameter).
StatusOr<store::StatsQuery> ParseStatsQuery(const QueryParameters& params, TimePoint now,
                                            const std::string& default_site);

// Lists every configured goal in `stats.goals`, in configuration order (zeros for goals not
// reached in the range), then goals reached while they were configured and no longer are.
void ListConfiguredGoals(const Goals& goals, store::Stats& stats);

// A goal's conversion rate: its visitor-days over the site's in the range (0..1; 0 when the
// site had none). Per day because visitors are recognised only within a UTC day.
double ConversionRate(const store::NamedCount& goal, const store::Stats& stats);

// The JSON body of a stats answer.
std::string FormatStatsJson(const store::StatsQuery& query, const store::Stats& stats);

}  // namespace footfall::core
