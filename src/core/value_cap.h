// ValueCap: bounds how many distinct values footfall aggregates per site, UTC day and family
// (event names; each event's property keys; each property's values; each campaign parameter),
// so that a buggy or hostile page cannot blow up storage with values that never repeat. Past the
// bound, a new value is replaced by "(other)" (and the caller counts a drop, reason
// too_many_values); values already admitted that day stay admitted.
//
// The bound is per process: it remembers the values it admitted today, so k processes sharing a
// store (serve replicas, Lambda instances) admit at most k times as many, and a restart starts
// again from zero (docs/design.md). Memory is bounded too: at most `max_tracked` values are
// remembered in all; past that every new value is "(other)" until the day changes.
// Thread-safe.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace footfall::core {

inline constexpr std::string_view kOtherValue = "(other)";

class ValueCap {
 public:
  // `max_per_family` >= 1 (default 1,000: the --max-distinct-values option).
  explicit ValueCap(int max_per_family = 1000, size_t max_tracked = 200'000);

  // Returns true when `value` may be kept as itself: it was admitted before on (`day`, `site`,
  // `family`), or that family still has room (it is admitted now). False: keep "(other)".
  bool Admit(int64_t day, std::string_view site, std::string_view family, std::string_view value);

  int max_per_family() const { return max_per_family_; }

 private:
  const int max_per_family_;
  const size_t max_tracked_;
  std::mutex mu_;
  int64_t day_ = INT64_MIN;  // guarded by mu_: the day the sets below are for
  // Guarded by mu_: "site\0family\0value" of each value admitted on day_, and "site\0family" ->
  // how many values of that family were.
  std::unordered_set<std::string> admitted_;
  std::unordered_map<std::string, int> sizes_;
};

}  // namespace footfall::core
