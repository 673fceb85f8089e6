#include "core/campaign.h"

#include <algorithm>
#include <array>
#include <utility>

#include "core/text.h"

namespace footfall::core {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// Well-known referrers: a host (exact, or a suffix after a dot) and the name shown beside it.
// Search engines and social sites whose many country hosts share a second-level name are matched
// by that name ("google." matches google.com, google.co.uk, www.google.de).
struct KnownReferrer {
  std::string_view host;
  std::string_view name;
  bool any_country = false;  // `host` is "<name>." followed by any public suffix
};
constexpr std::array kKnownReferrers = {
    KnownReferrer{"news.ycombinator.com", "Hacker News"},
    KnownReferrer{"google.", "Google", true},
    KnownReferrer{"bing.com", "Bing"},
    KnownReferrer{"duckduckgo.com", "DuckDuckGo"},
    KnownReferrer{"search.yahoo.com", "Yahoo!"},
    KnownReferrer{"yandex.", "Yandex", true},
    KnownReferrer{"baidu.com", "Baidu"},
    KnownReferrer{"ecosia.org", "Ecosia"},
    KnownReferrer{"search.brave.com", "Brave Search"},
    KnownReferrer{"kagi.com", "Kagi"},
    KnownReferrer{"startpage.com", "Startpage"},
    KnownReferrer{"qwant.com", "Qwant"},
    KnownReferrer{"reddit.com", "Reddit"},
    KnownReferrer{"old.reddit.com", "Reddit"},
    KnownReferrer{"lobste.rs", "Lobsters"},
    KnownReferrer{"t.co", "Twitter / X"},
    KnownReferrer{"twitter.com", "Twitter / X"},
    KnownReferrer{"x.com", "Twitter / X"},
    KnownReferrer{"facebook.com", "Facebook"},
    KnownReferrer{"l.facebook.com", "Facebook"},
    KnownReferrer{"lm.facebook.com", "Facebook"},
    KnownReferrer{"m.facebook.com", "Facebook"},
    KnownReferrer{"instagram.com", "Instagram"},
    KnownReferrer{"l.instagram.com", "Instagram"},
    KnownReferrer{"linkedin.com", "LinkedIn"},
    KnownReferrer{"lnkd.in", "LinkedIn"},
    KnownReferrer{"youtube.com", "YouTube"},
    KnownReferrer{"m.youtube.com", "YouTube"},
    KnownReferrer{"github.com", "GitHub"},
    KnownReferrer{"gitlab.com", "GitLab"},
    KnownReferrer{"stackoverflow.com", "Stack Overflow"},
    KnownReferrer{"medium.com", "Medium"},
    KnownReferrer{"dev.to", "DEV Community"},
    KnownReferrer{"bsky.app", "Bluesky"},
    KnownReferrer{"mastodon.social", "Mastodon"},
    KnownReferrer{"threads.net", "Threads"},
    KnownReferrer{"pinterest.com", "Pinterest"},
    KnownReferrer{"wikipedia.org", "Wikipedia"},
    KnownReferrer{"chatgpt.com", "ChatGPT"},
    KnownReferrer{"perplexity.ai", "Perplexity"},
    KnownReferrer{"mail.google.com", "Gmail"},
    KnownReferrer{"outlook.live.com", "Outlook"},
};

// Whether `host` is `domain` or a subdomain of it.
bool IsWithin(std::string_view host, std::string_view domain) {
  return host == domain ||
         (host.size() > domain.size() && host.ends_with(domain) &&
          host[host.size() - domain.size() - 1] == '.');
}

// Whether `host` is "<label>.<one or two more labels>" or a subdomain of one, for a `prefix`
// "<label>.": google.com, google.co.uk, www.google.de.
bool IsAnyCountry(std::string_view host, std::string_view prefix) {
  for (size_t at = 0; at < host.size();) {
    if (host.substr(at).starts_with(prefix)) {
      const std::string_view suffix = host.substr(at + prefix.size());
      const size_t dots = static_cast<size_t>(std::count(suffix.begin(), suffix.end(), '.'));
      if (!suffix.empty() && dots <= 1 && suffix.front() != '.' && suffix.back() != '.') return true;
    }
    const size_t dot = host.find('.', at);
    if (dot == std::string_view::npos) break;
    at = dot + 1;
  }
  return false;
}

}  // namespace

std::optional<std::string> NormalizeCampaignValue(std::string_view value) {
  if (!IsValidUtf8(value)) return std::nullopt;
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && !IsSpace(c)) || u == 0x7f) return std::nullopt;
  }
  while (!value.empty() && IsSpace(value.front())) value.remove_prefix(1);
  while (!value.empty() && IsSpace(value.back())) value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  std::string lowered = ToLowerAscii(TruncateUtf8(value, kMaxCampaignValueBytes));
  // Inner line breaks and tabs become spaces: a value is shown on one line.
  for (char& c : lowered) {
    if (IsSpace(c)) c = ' ';
  }
  while (!lowered.empty() && lowered.back() == ' ') lowered.pop_back();
  return lowered;
}

store::Campaign CampaignFromParameters(const QueryParameters& params, bool page_url) {
  store::Campaign campaign;
  auto take = [&params](std::string_view name, std::string& out) {
    if (!out.empty()) return;
    if (std::optional<std::string_view> value = FindParameter(params, name)) {
      if (std::optional<std::string> normalized = NormalizeCampaignValue(*value)) {
        out = *std::move(normalized);
      }
    }
  };
  take("utm_source", campaign.source);
  if (page_url) {
    take("ref", campaign.source);
    take("source", campaign.source);
  }
  take("utm_medium", campaign.medium);
  take("utm_campaign", campaign.name);
  take("utm_content", campaign.content);
  take("utm_term", campaign.term);
  return campaign;
}

void FillCampaign(store::Campaign& campaign, const store::Campaign& other) {
  for (auto [mine, theirs] : {std::pair{&campaign.source, &other.source},
                              std::pair{&campaign.medium, &other.medium},
                              std::pair{&campaign.name, &other.name},
                              std::pair{&campaign.content, &other.content},
                              std::pair{&campaign.term, &other.term}}) {
    if (mine->empty()) *mine = *theirs;
  }
}

std::string ReferrerLabel(std::string_view host) {
  const std::string_view name = ReferrerSourceName(host);
  return name.empty() ? std::string(host) : std::string(host) + " (" + std::string(name) + ")";
}

std::string_view ReferrerSourceName(std::string_view host) {
  if (host.starts_with("www.")) host.remove_prefix(4);
  // The most specific entry wins (old.reddit.com before reddit.com): the longest host.
  const KnownReferrer* best = nullptr;
  for (const KnownReferrer& known : kKnownReferrers) {
    const bool matches = known.any_country ? IsAnyCountry(host, known.host) : IsWithin(host, known.host);
    if (matches && (best == nullptr || known.host.size() > best->host.size())) best = &known;
  }
  return best == nullptr ? std::string_view() : best->name;
}

}  // namespace footfall::core
