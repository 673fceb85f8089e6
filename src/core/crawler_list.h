// The patterns of the crawler-user-agents list (third_party/crawler-user-agents), compiled into
// footfall: scripts/crawler_patterns.py turns the vendored JSON into C++ at build time, with each
// pattern's drop reason taken from its tags. Constant data; thread-safe.
#pragma once

#include <span>
#include <string_view>

#include "core/bot_matcher.h"

namespace footfall::core {

// Every pattern of the list, in the list's order: RE2 syntax (checked at build time to read as the
// JavaScript original does), case-sensitive, unanchored.
std::span<const BotPattern> CrawlerListPatterns();

// The list's npm version, e.g. "1.60.0" (third_party/crawler-user-agents/PROVENANCE).
std::string_view CrawlerListVersion();

}  // namespace footfall::core
