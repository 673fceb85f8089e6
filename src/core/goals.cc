#include "core/goals.h"

#include <algorithm>

#include "core/event_body.h"
#include "core/url.h"

namespace footfall::core {
namespace {

std::string_view Trim(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  return text;
}

}  // namespace

bool MatchesPagePattern(std::string_view pattern, std::string_view path) {
  // Iterative glob with one backtracking point: linear in practice, never exponential.
  size_t p = 0, s = 0, star = std::string_view::npos, resume = 0;
  while (s < path.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = s;
    } else if (p < pattern.size() && pattern[p] == path[s]) {
      ++p;
      ++s;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      s = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

StatusOr<Goals> Goals::Parse(std::string_view list) {
  Goals goals;
  while (!list.empty()) {
    const size_t comma = list.find(',');
    const std::string_view entry = Trim(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    if (entry.empty()) continue;
    const std::string quoted = "goal '" + std::string(entry.substr(0, 64)) + "'";
    if (entry.size() > kMaxGoalBytes) {
      return InvalidArgumentError(quoted + " is longer than " + std::to_string(kMaxGoalBytes) +
                                  " bytes");
    }
    Goal goal;
    if (entry.starts_with("event:")) {
      goal.is_event = true;
      goal.target = std::string(entry.substr(6));
      if (Status valid = CheckEventName(goal.target); !valid.ok()) {
        return InvalidArgumentError(quoted + ": " + valid.message());
      }
    } else if (entry.starts_with("page:")) {
      const std::string_view pattern = entry.substr(5);
      // A pattern is a page path as footfall stores it, with '*' where anything may be.
      StatusOr<std::string> normalized = NormalizePagePath(pattern);
      if (!normalized.ok() || *normalized != pattern) {
        return InvalidArgumentError(
            quoted + ": a page pattern must be a normalised absolute path, e.g. page:/docs/*");
      }
      goal.target = std::string(pattern);
    } else {
      return InvalidArgumentError(quoted + " must start with 'event:' or 'page:'");
    }
    if (std::find(goals.names_.begin(), goals.names_.end(), entry) != goals.names_.end()) {
      return InvalidArgumentError(quoted + " is listed twice");
    }
    if (goals.names_.size() == kMaxGoals) {
      return InvalidArgumentError("at most " + std::to_string(kMaxGoals) + " goals");
    }
    goals.names_.emplace_back(entry);
    goals.goals_.push_back(std::move(goal));
  }
  return goals;
}

std::vector<std::string> Goals::ReachedBy(const store::Visit& visit) const {
  std::vector<std::string> reached;
  for (size_t i = 0; i < goals_.size(); ++i) {
    const Goal& goal = goals_[i];
    const bool hit = goal.is_event ? (!visit.is_page_view() && visit.event == goal.target)
                                   : (visit.is_page_view() && MatchesPagePattern(goal.target, visit.path));
    if (hit) reached.push_back(names_[i]);
  }
  return reached;
}

}  // namespace footfall::core
