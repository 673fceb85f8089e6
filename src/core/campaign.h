// Campaign (UTM) parameters of a visited page, and readable names of well-known referrer hosts.
// Campaign values are aggregate dimensions only (see docs/design.md). Pure; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/url.h"
#include "store/store.h"

namespace footfall::core {

// Longest campaign value kept, in bytes (longer ones are cut on a code-point boundary).
inline constexpr size_t kMaxCampaignValueBytes = 128;

// A campaign value as footfall keeps it: trimmed, ASCII lower-cased, at most
// kMaxCampaignValueBytes. nullopt (the value is ignored) when it is not valid UTF-8, holds a
// control character, or is empty after trimming.
std::optional<std::string> NormalizeCampaignValue(std::string_view value);

// Reads utm_source, utm_medium, utm_campaign, utm_content and utm_term from `params`. With
// `page_url` (the parameters of the visited page's own URL), GoatCounter's `ref` and `source` also
// name the source when utm_source is absent; in /count's own query `ref` is the referrer, not a
// campaign. Unusable values are ignored: a campaign is a hint and never fails a visit.
store::Campaign CampaignFromParameters(const QueryParameters& params, bool page_url);

// Fills the members of `campaign` that are empty from `other`.
void FillCampaign(store::Campaign& campaign, const store::Campaign& other);

// "news.ycombinator.com (Hacker News)" for a well-known host, else the host itself.
std::string ReferrerLabel(std::string_view host);

// A readable name for a well-known referrer host ("news.ycombinator.com" → "Hacker News",
// "www.google.de" → "Google"), or "" when the host is not in footfall's table.
std::string_view ReferrerSourceName(std::string_view host);

}  // namespace footfall::core
