// Goals: configured conversions (--goals / FOOTFALL_GOALS), e.g. "event:signup,page:/thanks,
// page:/docs/*". A visit reaches a goal when it is the named custom event, or a page view of a
// path the pattern matches ('*' matches any run of characters, '/' included). Which goals a visit
// reached is worked out when it is recorded and kept in the aggregates only, so a goal counts from
// the moment it is configured (docs/design.md). Immutable; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "store/store.h"

namespace footfall::core {

inline constexpr size_t kMaxGoals = 50;
inline constexpr size_t kMaxGoalBytes = 200;

class Goals {
 public:
  Goals() = default;

  // Parses a comma-separated list of "event:<name>" and "page:<path pattern>". Errors:
  // kInvalidArgument naming the bad entry (unknown kind, an event name or page pattern that
  // footfall would never record, a duplicate, more than kMaxGoals, longer than kMaxGoalBytes).
  static StatusOr<Goals> Parse(std::string_view list);

  // The goals `visit` reaches, as configured ("page:/docs/*"), in configuration order.
  std::vector<std::string> ReachedBy(const store::Visit& visit) const;

  // Every goal, as configured, in configuration order.
  const std::vector<std::string>& names() const { return names_; }
  bool empty() const { return names_.empty(); }

 private:
  struct Goal {
    bool is_event = false;
    std::string target;  // the event name, or the page pattern
  };
  std::vector<std::string> names_;
  std::vector<Goal> goals_;
};

// Whether `path` matches `pattern`, where '*' matches any run of characters (none included).
bool MatchesPagePattern(std::string_view pattern, std::string_view path);

}  // namespace footfall::core
