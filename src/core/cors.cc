#include "core/cors.h"

#include "core/url.h"

namespace footfall::core {

std::optional<std::string> NormalizeOrigin(std::string_view origin) {
  if (origin.ends_with('/')) origin.remove_suffix(1);
  std::optional<Url> url = ParseHttpUrl(origin);
  if (!url || !url->path.empty() || origin.find_first_of("?#") != std::string_view::npos) {
    return std::nullopt;
  }
  std::string out = url->scheme + "://" + url->host;
  if (!url->port.empty()) out += ":" + url->port;
  return out;
}

StatusOr<CorsPolicy> CorsPolicy::Create(const std::vector<std::string>& allowed_origins) {
  CorsPolicy policy;
  for (const std::string& entry : allowed_origins) {
    if (entry == "*") {
      policy.allows_any_ = true;
      policy.origins_.push_back("*");
      continue;
    }
    std::optional<std::string> normalized = NormalizeOrigin(entry);
    if (!normalized) {
      return InvalidArgumentError("allowed origin '" + entry +
                                  "' is not of the form https://host[:port] or *");
    }
    policy.origins_.push_back(*normalized);
  }
  return policy;
}

std::optional<std::string> CorsPolicy::AllowOriginFor(std::string_view origin) const {
  if (allows_any_) return std::string("*");
  std::optional<std::string> normalized = NormalizeOrigin(origin);
  if (!normalized) return std::nullopt;
  for (const std::string& allowed : origins_) {
    if (allowed == *normalized) return allowed;
  }
  return std::nullopt;
}

void CorsPolicy::AddResponseHeaders(std::optional<std::string_view> origin,
                                    Response& response) const {
  // Caches must key on Origin: the same URL answers differently per origin.
  response.AddHeader("Vary", "Origin");
  if (!origin) return;
  if (std::optional<std::string> allow = AllowOriginFor(*origin)) {
    response.AddHeader("Access-Control-Allow-Origin", std::move(*allow));
  }
}

void CorsPolicy::AddPreflightHeaders(std::optional<std::string_view> origin,
                                     std::string_view allow_methods, Response& response) const {
  if (!origin || !AllowOriginFor(*origin)) return;
  response.AddHeader("Access-Control-Allow-Methods", std::string(allow_methods));
  response.AddHeader("Access-Control-Allow-Headers", "Content-Type");
  response.AddHeader("Access-Control-Max-Age", std::to_string(kMaxAgeSeconds));
}

}  // namespace footfall::core
