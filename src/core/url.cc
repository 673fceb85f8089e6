#include "core/url.h"

#include "core/text.h"

namespace footfall::core {

Target SplitTarget(std::string_view target) {
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return {target, {}};
  return {target.substr(0, q), target.substr(q + 1)};
}

StatusOr<QueryParameters> ParseQuery(std::string_view query) {
  QueryParameters params;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    if (params.size() == kMaxQueryParameters) {
      return InvalidArgumentError("too many query parameters");
    }
    const size_t eq = pair.find('=');
    ASSIGN_OR_RETURN(std::string name, PercentDecode(pair.substr(0, eq), true));
    std::string value;
    if (eq != std::string_view::npos) {
      ASSIGN_OR_RETURN(value, PercentDecode(pair.substr(eq + 1), true));
    }
    params.emplace_back(std::move(name), std::move(value));
  }
  return params;
}

std::optional<std::string_view> FindParameter(const QueryParameters& params,
                                              std::string_view name) {
  for (const auto& [n, v] : params) {
    if (n == name) return std::string_view(v);
  }
  return std::nullopt;
}

std::optional<Url> ParseHttpUrl(std::string_view text) {
  const size_t scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) return std::nullopt;
  Url url;
  url.scheme = ToLowerAscii(text.substr(0, scheme_end));
  if (url.scheme != "http" && url.scheme != "https") return std::nullopt;
  std::string_view rest = text.substr(scheme_end + 3);
  const size_t authority_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view after = authority_end == std::string_view::npos ? std::string_view()
                                                                     : rest.substr(authority_end);
  if (authority.empty() || authority.find('@') != std::string_view::npos) return std::nullopt;
  std::string_view host = authority;
  if (authority.front() == '[') {  // IPv6 literal
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = authority.substr(0, close + 1);
    std::string_view tail = authority.substr(close + 1);
    if (!tail.empty()) {
      if (tail.front() != ':') return std::nullopt;
      url.port = std::string(tail.substr(1));
    }
  } else if (const size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    url.port = std::string(authority.substr(colon + 1));
  }
  for (char c : url.port) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  if (host.empty() || host.size() > kMaxHostBytes || !IsValidUtf8(host)) return std::nullopt;
  for (char c : host) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return std::nullopt;
  }
  url.host = ToLowerAscii(host);
  const size_t path_end = after.find_first_of("?#");
  url.path = std::string(after.substr(0, path_end));
  if (path_end != std::string_view::npos && after[path_end] == '?') {
    const std::string_view query = after.substr(path_end + 1);
    url.query = std::string(query.substr(0, query.find('#')));
  }
  return url;
}

namespace {

// NormalizePagePath's rules for a path with neither query nor fragment.
StatusOr<std::string> NormalizeSegments(std::string_view path) {
  if (path.empty() || path.front() != '/') return InvalidArgumentError("path must start with '/'");
  if (!IsValidUtf8(path)) return InvalidArgumentError("path is not valid UTF-8");
  for (char c : path) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return InvalidArgumentError("path has control characters");
  }
  // Resolve segments; an input far over the limit cannot shrink back under it by much, so reject
  // it before doing any work.
  if (path.size() > 4 * kMaxPagePathBytes) return InvalidArgumentError("path too long");
  std::vector<std::string_view> segments;
  size_t start = 1;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    std::string_view segment = path.substr(start, slash - start);
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!segment.empty() && segment != ".") {
      segments.push_back(segment);
    }
    start = slash + 1;
  }
  const bool trailing_slash = path.size() > 1 && (path.back() == '/' || path.ends_with("/.") ||
                                                  path.ends_with("/.."));
  std::string out;
  for (std::string_view segment : segments) {
    out.push_back('/');
    out.append(segment);
  }
  if (out.empty() || trailing_slash) out.push_back('/');
  if (out.size() > kMaxPagePathBytes) return InvalidArgumentError("path too long");
  return out;
}

}  // namespace

StatusOr<std::string> NormalizePagePath(std::string_view decoded_path) {
  const size_t cut = decoded_path.find_first_of("?#");
  ASSIGN_OR_RETURN(std::string page, NormalizeSegments(decoded_path.substr(0, cut)));
  if (cut == std::string_view::npos || decoded_path[cut] != '#') return page;
  // A hash router's route (counter.js with data-hash sends "/#/about") names a page of its own.
  // Any other fragment is cut off like the query: an anchor is the same page, and a fragment may
  // carry secrets (OAuth's implicit flow puts the access token there).
  std::string_view fragment = decoded_path.substr(cut + 1);
  const bool hashbang = fragment.starts_with("!/");
  if (hashbang) fragment.remove_prefix(1);
  if (!fragment.starts_with('/')) return page;
  ASSIGN_OR_RETURN(std::string route,
                   NormalizeSegments(fragment.substr(0, fragment.find_first_of("?#"))));
  page += hashbang ? "#!" : "#";
  page += route;
  if (page.size() > kMaxPagePathBytes) return InvalidArgumentError("path too long");
  return page;
}

}  // namespace footfall::core
