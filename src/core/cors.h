// CorsPolicy: which browser origins may read footfall's answers, and the CORS headers to send.
// Immutable after Create(); safe to share between threads.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "core/http_message.h"

namespace footfall::core {

class CorsPolicy {
 public:
  // Builds a policy from configured origins, each "scheme://host[:port]" (a trailing '/' is
  // dropped, scheme and host are case-insensitive) or the single entry "*" (any origin).
  // An empty list allows no cross-origin reads. Errors: kInvalidArgument naming a bad entry.
  static StatusOr<CorsPolicy> Create(const std::vector<std::string>& allowed_origins);

  // The value for Access-Control-Allow-Origin when a request carries `origin`: the matching
  // configured origin exactly as normalised, "*" under a wildcard policy, nullopt if not allowed.
  std::optional<std::string> AllowOriginFor(std::string_view origin) const;

  // Adds Vary: Origin and, if `origin` is allowed, Access-Control-Allow-Origin.
  void AddResponseHeaders(std::optional<std::string_view> origin, Response& response) const;

  // Adds, if `origin` is allowed, the preflight-only headers (allow-methods, allow-headers,
  // max-age). A preflight answer carries AddResponseHeaders' headers too.
  void AddPreflightHeaders(std::optional<std::string_view> origin, std::string_view allow_methods,
                           Response& response) const;

  // The configured origins after normalisation, for start-up logs.
  const std::vector<std::string>& origins() const { return origins_; }
  bool allows_any() const { return allows_any_; }

  // How long browsers may cache a preflight answer.
  static constexpr int kMaxAgeSeconds = 86400;

 private:
  std::vector<std::string> origins_;
  bool allows_any_ = false;
};

// Normalises an origin for comparison: lower-case scheme and host, no trailing '/'.
// Returns nullopt if `origin` is not an http(s) origin without path.
std::optional<std::string> NormalizeOrigin(std::string_view origin);

}  // namespace footfall::core
