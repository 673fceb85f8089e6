// Helpers shared by the credentials chain's files (credentials_answers.cc, credential_sources.cc,
// credentials_provider.cc): checks and printable renderings of untrusted text, and the error of an
// AWS Query API answer. Not for other callers. Pure functions; thread-safe.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>

#include "base/status.h"

namespace footfall::aws {

inline constexpr std::string_view kWhitespace = " \t\r\n";

inline std::string_view Trim(std::string_view text) {
  const size_t begin = text.find_first_not_of(kWhitespace);
  if (begin == std::string_view::npos) return {};
  const size_t end = text.find_last_not_of(kWhitespace);
  return text.substr(begin, end - begin + 1);
}

// Visible ASCII, no space: what keys, tokens and URL targets may contain. It also keeps CR and LF
// (header injection) out of everything that goes into a request.
inline bool IsVisibleAscii(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

// For error messages: a short, printable rendering of an untrusted, non-secret value.
inline std::string Printable(std::string_view text, size_t limit = 120) {
  std::string out;
  for (char c : text.substr(0, limit)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (text.size() > limit) out += "...";
  return out;
}

inline Status WithPrefix(const Status& status, std::string_view prefix) {
  return Status(status.code(), std::string(prefix) + ": " + status.message());
}

// "Code: Message" of an AWS Query API error answer, for the log; empty when there is none.
std::string QueryApiError(std::string_view xml);

}  // namespace footfall::aws
