#include "core/counter_snippet.h"

#include <openssl/sha.h>

#include <cstddef>

namespace footfall::core {
namespace embedded {
// Defined by the source cmake/embed_file.cmake generates from web/counter.min.js.
extern const unsigned char kCounterMinJs[];
extern const std::size_t kCounterMinJs_size;
}  // namespace embedded

namespace {

// `text` without the spaces and tabs HTTP allows around list elements (OWS).
std::string_view TrimOptionalWhitespace(std::string_view text) {
  const size_t first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

// Whether an If-None-Match value (RFC 9110 §13.1.2: "*" or a comma-separated list of entity
// tags) names `etag` under weak comparison, i.e. ignoring a "W/" prefix.
bool IfNoneMatchNames(std::string_view header, std::string_view etag) {
  while (!header.empty()) {
    const size_t comma = header.find(',');
    std::string_view tag = TrimOptionalWhitespace(header.substr(0, comma));
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    if (tag == "*") return true;
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == etag) return true;
  }
  return false;
}

}  // namespace

std::string_view CounterSnippet() {
  return {reinterpret_cast<const char*>(embedded::kCounterMinJs), embedded::kCounterMinJs_size};
}

const std::string& CounterSnippetEtag() {
  static const std::string etag = [] {
    unsigned char digest[SHA256_DIGEST_LENGTH];
    const std::string_view bytes = CounterSnippet();
    SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string tag = "\"";
    for (size_t i = 0; i < 16; ++i) {
      tag.push_back(kHex[digest[i] >> 4]);
      tag.push_back(kHex[digest[i] & 0xf]);
    }
    tag.push_back('"');
    return tag;
  }();
  return etag;
}

Response CounterSnippetResponse(std::optional<std::string_view> if_none_match) {
  Response response;
  response.AddHeader("ETag", CounterSnippetEtag());
  // The URL carries no version, so a cached copy outlives a footfall upgrade by at most an hour;
  // after that, a browser revalidates with If-None-Match and usually gets a body-less 304.
  response.AddHeader("Cache-Control", "public, max-age=3600");
  response.AddHeader("Cross-Origin-Resource-Policy", "cross-origin");
  if (if_none_match && IfNoneMatchNames(*if_none_match, CounterSnippetEtag())) {
    response.status = 304;
    return response;
  }
  response.AddHeader("Content-Type", "text/javascript; charset=utf-8");
  response.body = std::string(CounterSnippet());
  return response;
}

}  // namespace footfall::core
