#include "core/bot_matcher.h"

#include <re2/re2.h>
#include <re2/set.h>

#include <bit>
#include <string>
#include <utility>

namespace footfall::core {

struct BotMatcher::SetHolder {
  explicit SetHolder(const RE2::Options& options) : set(options, RE2::UNANCHORED) {}
  RE2::Set set;
};

BotCategory BotCategories::Strongest() const {
  return static_cast<BotCategory>(std::countr_zero(static_cast<unsigned>(bits_)));
}

StatusOr<std::unique_ptr<BotMatcher>> BotMatcher::Create(std::span<const BotPattern> patterns,
                                                         int64_t max_memory_bytes) {
  std::vector<BotCategory> categories;
  std::unique_ptr<SetHolder> holder;
  if (!patterns.empty()) {
    RE2::Options options;
    options.set_log_errors(false);  // errors come back as Status, not on stderr
    options.set_max_mem(max_memory_bytes);
    holder = std::make_unique<SetHolder>(options);
    categories.reserve(patterns.size());
    for (const BotPattern& pattern : patterns) {
      std::string error;
      if (holder->set.Add(re2::StringPiece(pattern.regex.data(), pattern.regex.size()), &error) <
          0) {
        return InvalidArgumentError("bot pattern \"" + std::string(pattern.regex) + "\": " + error);
      }
      categories.push_back(pattern.category);
    }
    if (!holder->set.Compile()) {
      return ResourceExhaustedError("bot patterns do not fit in " +
                                    std::to_string(max_memory_bytes) + " bytes");
    }
  }
  return std::unique_ptr<BotMatcher>(new BotMatcher(std::move(holder), std::move(categories)));
}

BotMatcher::BotMatcher(std::unique_ptr<SetHolder> set, std::vector<BotCategory> categories)
    : set_(std::move(set)), categories_(std::move(categories)) {}

BotMatcher::~BotMatcher() = default;

StatusOr<BotCategories> BotMatcher::Match(std::string_view text) const {
  BotCategories found;
  if (set_ == nullptr) return found;
  // Reused by each thread: a match allocates nothing once the vector has grown.
  thread_local std::vector<int> matched;
  RE2::Set::ErrorInfo error{RE2::Set::kNoError};
  if (!set_->set.Match(re2::StringPiece(text.data(), text.size()), &matched, &error)) {
    if (error.kind != RE2::Set::kNoError) {
      return ResourceExhaustedError("bot pattern matcher failed (RE2::Set error " +
                                    std::to_string(static_cast<int>(error.kind)) + ")");
    }
    return found;
  }
  for (int index : matched) found.Add(categories_[static_cast<size_t>(index)]);
  return found;
}

}  // namespace footfall::core
