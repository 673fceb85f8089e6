// URL pieces the counter needs from untrusted input: the request target's path and query,
// absolute URLs (Origin, Referer, ?ref=) and page paths. Pure functions, thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace footfall::core {

// Most query parameters accepted in one request target.
inline constexpr size_t kMaxQueryParameters = 32;
// Longest page path stored, in bytes after normalisation.
inline constexpr size_t kMaxPagePathBytes = 512;
// Longest URL host accepted (a DNS name has at most 253 characters).
inline constexpr size_t kMaxHostBytes = 255;

struct Target {
  std::string_view path;   // before '?'
  std::string_view query;  // after '?', without it; "" if none
};
// Splits an origin-form request target ("/count?path=/x") at the first '?'.
Target SplitTarget(std::string_view target);

using QueryParameters = std::vector<std::pair<std::string, std::string>>;
// Decodes "a=1&b=x%20y" into name/value pairs (form encoding: '+' is a space). Errors:
// kInvalidArgument for a bad escape or more than kMaxQueryParameters parameters.
StatusOr<QueryParameters> ParseQuery(std::string_view query);
// Returns the value of the first parameter named `name`, if any.
std::optional<std::string_view> FindParameter(const QueryParameters& params, std::string_view name);

struct Url {
  std::string scheme;  // lower case, e.g. "https"
  std::string host;    // lower case, without port or brackets' content changes
  std::string port;    // "" when absent
  std::string path;    // raw (still percent-encoded), "" when absent; no query or fragment
  std::string query;   // raw, after '?' and before '#'; "" when absent
};
// Parses an absolute http(s) URL. Returns nullopt for anything else (relative, other schemes,
// userinfo, empty host, a host that is not UTF-8, has spaces or control characters, or is longer
// than kMaxHostBytes). The host is stored as a visit's referrer, so it must be fit to store.
std::optional<Url> ParseHttpUrl(std::string_view text);

// Normalises a page path that was already percent-decoded: must start with '/', be valid UTF-8
// and have no control characters; a query is cut off; repeated slashes collapse; "." and ".."
// segments resolve (never above "/"). A fragment is cut off too, unless it is a hash router's
// route ("#/…" or "#!/…"), which is kept, normalised by the same rules ("/#/a/../b?x" →
// "/#/b"). Errors: kInvalidArgument when the rules fail or the result exceeds kMaxPagePathBytes.
StatusOr<std::string> NormalizePagePath(std::string_view decoded_path);

}  // namespace footfall::core
