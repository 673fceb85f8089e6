#include "store/store_uri.h"

namespace footfall::store {

std::string RedactStoreUri(std::string_view uri) {
  std::string out(uri);
  const size_t scheme_end = out.find("://");
  if (scheme_end == std::string::npos) return out;
  const size_t authority_end = out.find_first_of("/?#", scheme_end + 3);
  const size_t at = out.rfind('@', authority_end);
  if (at == std::string::npos || at < scheme_end) return out;
  const size_t colon = out.find(':', scheme_end + 3);
  if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
  // libpq also takes password=... as a query parameter.
  for (size_t p = out.find("password="); p != std::string::npos; p = out.find("password=", p + 1)) {
    const size_t value = p + 9;
    const size_t end = out.find('&', value);
    out.replace(value, (end == std::string::npos ? out.size() : end) - value, "***");
  }
  return out;
}

}  // namespace footfall::store
