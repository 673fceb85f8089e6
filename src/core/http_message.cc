#include "core/http_message.h"

namespace footfall::core {
namespace {

char LowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

template <typename Headers>
std::optional<std::string_view> Find(const Headers& headers, std::string_view name) {
  for (const auto& h : headers) {
    if (EqualsIgnoreCase(h.name, name)) return std::string_view(h.value);
  }
  return std::nullopt;
}

}  // namespace

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (LowerAscii(a[i]) != LowerAscii(b[i])) return false;
  }
  return true;
}

std::optional<std::string_view> Request::FindHeader(std::string_view name) const {
  return Find(headers, name);
}

std::optional<std::string_view> Response::FindHeader(std::string_view name) const {
  return Find(headers, name);
}

}  // namespace footfall::core
