// Drift: a store found that what it keeps no longer agrees with itself and could not repair it —
// a visit counted but not stored whose compensating decrement failed, visits stored whose
// aggregates could not be written. Never silent: each one is a JSON line on stderr naming the
// visit ids (never a visitor or an address) and the error, and a count by kind that serve exports
// as footfall_store_drift_<kind>_visits_total (on Lambda the line is in the function's log group).
// Thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace footfall::store {

enum class DriftKind {
  kTotalAhead,       // the counter ("total") holds a visit that is not stored
  kAggregatesShort,  // stored visits missing from the statistics aggregates
  kKinds
};
const char* DriftKindName(DriftKind kind);

// Reports drift of `kind` for `visit_ids` (at most the first 20 are named) caused by `cause`.
void ReportDrift(DriftKind kind, const std::vector<std::string>& visit_ids, const Status& cause);

// Drift reported in this process so far, of one kind and in all.
uint64_t DriftCount(DriftKind kind);
uint64_t DriftCount();

}  // namespace footfall::store
