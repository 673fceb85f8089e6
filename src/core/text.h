// Text checks and clean-ups for untrusted input: UTF-8 validation, percent-decoding, user-agent
// sanitising. Pure functions, thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/status.h"

namespace footfall::core {

// True if `text` is well-formed UTF-8 (no overlongs, surrogates or code points above U+10FFFF).
bool IsValidUtf8(std::string_view text);

// Decodes %XX escapes (and '+' as space when `plus_is_space`). Errors: kInvalidArgument for a
// truncated or non-hex escape.
StatusOr<std::string> PercentDecode(std::string_view text, bool plus_is_space);

// The longest prefix of `text` that is at most `max_bytes` long and ends on a UTF-8 code point
// boundary. Precondition: `text` is valid UTF-8.
std::string_view TruncateUtf8(std::string_view text, size_t max_bytes);

// Longest user agent stored, in bytes; longer ones are truncated (real browsers send < 200).
inline constexpr size_t kMaxStoredUserAgentBytes = 256;

// Returns `user_agent` with control characters (C0, DEL) removed and truncated to
// kMaxStoredUserAgentBytes. Errors: kInvalidArgument if it is not valid UTF-8.
StatusOr<std::string> SanitizeUserAgent(std::string_view user_agent);

// `text` with &, <, >, " and ' escaped for text and attribute values of HTML and XML (the
// dashboard's page, the badge's SVG).
std::string HtmlEscape(std::string_view text);

// `text` percent-encoded for a URL's query (everything but RFC 3986's unreserved characters).
std::string PercentEncode(std::string_view text);

// Returns ASCII-lower-cased `text`.
std::string ToLowerAscii(std::string_view text);

}  // namespace footfall::core
