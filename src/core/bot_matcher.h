// BotMatcher: which of many regular expressions a user agent matches, in one pass (RE2::Set, a
// lazily built DFA), reduced to the categories of the patterns that matched. Immutable after
// Create(); Match() is thread-safe and may run concurrently (RE2 locks its DFA cache internally).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace footfall::core {

// Why a pattern says a user agent is not a person. Lower values are more specific: when patterns
// of several categories match, BotCategories::Strongest() is the lowest.
enum class BotCategory : uint8_t {
  kHeadless,       // browser automation: headless browsers, Lighthouse, Puppeteer
  kLinkPreview,    // chat and social apps fetching a page to show a preview
  kMonitor,        // uptime, performance and link monitors
  kFeedReader,     // RSS and Atom readers and aggregators
  kScanner,        // security and internet-wide scanners
  kCrawler,        // search, SEO, AI, advertising, archive and research crawlers
  kListedLibrary,  // crawler-user-agents' "http-library" tag: a plain HTTP library, or a crawler
                   // or service built on one (Scrapy, Amazon CloudFront)
  kHttpLibrary,    // footfall's own list of HTTP libraries (user_agent.h HttpLibraryPatterns)
};

struct BotPattern {
  std::string_view regex;  // RE2 syntax
  BotCategory category;
};

// The categories of every pattern a user agent matched.
class BotCategories {
 public:
  void Add(BotCategory category) { bits_ |= Bit(category); }
  bool Has(BotCategory category) const { return (bits_ & Bit(category)) != 0; }
  bool empty() const { return bits_ == 0; }
  // The lowest (most specific) category present. Precondition: !empty().
  BotCategory Strongest() const;

 private:
  static uint8_t Bit(BotCategory category) {
    return uint8_t(1u << static_cast<unsigned>(category));
  }
  uint8_t bits_ = 0;
};

class BotMatcher {
 public:
  // Memory for the compiled patterns and the DFA, whose states RE2 flushes and rebuilds when they
  // outgrow it. Chosen so that the states for the whole test corpus (the crawler list's examples
  // and ~950 browsers) fit without a flush: docs/operations.md#bots.
  static constexpr int64_t kDefaultMaxMemoryBytes = int64_t{16} << 20;

  // Compiles `patterns` (unanchored; case-sensitive unless a pattern says (?i)). Errors:
  // kInvalidArgument naming the first pattern RE2 rejects; kResourceExhausted if the set does not
  // fit in `max_memory_bytes`.
  static StatusOr<std::unique_ptr<BotMatcher>> Create(
      std::span<const BotPattern> patterns, int64_t max_memory_bytes = kDefaultMaxMemoryBytes);

  ~BotMatcher();
  BotMatcher(const BotMatcher&) = delete;
  BotMatcher& operator=(const BotMatcher&) = delete;

  // The categories of the patterns `text` matches (empty if none). Errors: kResourceExhausted if
  // the DFA ran out of memory for this text (does not happen with the default budget and the
  // crawler list; the caller decides whether to fail open).
  StatusOr<BotCategories> Match(std::string_view text) const;

  // How many patterns it holds.
  size_t size() const { return categories_.size(); }

 private:
  struct SetHolder;
  BotMatcher(std::unique_ptr<SetHolder> set, std::vector<BotCategory> categories);

  std::unique_ptr<SetHolder> set_;       // null when there are no patterns
  std::vector<BotCategory> categories_;  // by the set's pattern index
};

}  // namespace footfall::core
