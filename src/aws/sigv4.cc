#include "aws/sigv4.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aws/sigv4_internal.h"

namespace footfall::aws {
namespace {

using Digest = std::array<unsigned char, 32>;

[[noreturn]] void DieCrypto(const char* what) {
  // EVP_Digest and HMAC fail only when libcrypto cannot allocate or has no SHA-256 provider; no
  // request could be signed after that, and sending unsigned ones would only hide the fault.
  std::fprintf(stderr, "footfall: OpenSSL %s failed\n", what);
  std::abort();
}

Digest Sha256(std::string_view data) {
  Digest out;
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &len, EVP_sha256(), nullptr) != 1 ||
      len != out.size()) {
    DieCrypto("SHA-256");
  }
  return out;
}

Digest HmacSha256(std::string_view key, std::string_view data) {
  Digest out;
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(),
           &len) == nullptr ||
      len != out.size()) {
    DieCrypto("HMAC-SHA256");
  }
  return out;
}

std::string_view AsString(const Digest& d) {
  return {reinterpret_cast<const char*>(d.data()), d.size()};
}

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 0xf];
  }
  return out;
}

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

// RFC 3986 percent-encoding with upper-case hex, as SigV4 specifies; '/' kept only for paths.
std::string UriEncode(std::string_view bytes, bool keep_slash) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(bytes.size());
  for (unsigned char c : bytes) {
    if (IsUnreserved(c) || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kDigits[c >> 4];
      out += kDigits[c & 0xf];
    }
  }
  return out;
}

std::optional<int> HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return std::nullopt;
}

// A '%' not followed by two hex digits is kept as a literal '%', so it is signed as %25, the way
// botocore signs a parameter containing '%'.
std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      std::optional<int> hi = HexValue(s[i + 1]);
      std::optional<int> lo = HexValue(s[i + 2]);
      if (hi && lo) {
        out += static_cast<char>(*hi * 16 + *lo);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

// Like botocore's normalize_url_path: RFC 3986 dot-segment removal, and empty segments dropped
// (AWS treats "a//b" as "a/b"); then encoded a second time.
std::string CanonicalUri(std::string_view path) {
  if (path.empty()) return "/";
  std::vector<std::string_view> segments;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view segment = path.substr(start, end - start);
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!segment.empty() && segment != ".") {
      segments.push_back(segment);
    }
    start = end + 1;
  }
  std::string normalized = path.front() == '/' ? "/" : "";
  for (size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) normalized += '/';
    normalized += segments[i];
  }
  if (path.back() == '/' && !segments.empty()) normalized += '/';
  return UriEncode(normalized, /*keep_slash=*/true);
}

std::string CanonicalQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> params;
  size_t start = 0;
  while (start < query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    std::string_view param = query.substr(start, end - start);
    start = end + 1;
    if (param.empty()) continue;
    size_t eq = param.find('=');
    std::string_view name = param.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? "" : param.substr(eq + 1);
    params.emplace_back(UriEncode(PercentDecode(name), false),
                        UriEncode(PercentDecode(value), false));
  }
  // By encoded name, then by encoded value for repeated names (byte order, as botocore sorts).
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out += '&';
    out += name;
    out += '=';
    out += value;
  }
  return out;
}

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// SigV4's Trimall: no leading or trailing whitespace, each inner run of it one space.
std::string TrimAll(std::string_view value) {
  std::string out;
  bool pending_space = false;
  for (char c : value) {
    if (c == ' ' || c == '\t') {
      pending_space = !out.empty();
    } else {
      if (pending_space) out += ' ';
      pending_space = false;
      out += c;
    }
  }
  return out;
}

bool IsSuppliedBySigner(std::string_view lower_name) {
  return lower_name == "host" || lower_name == "x-amz-date" ||
         lower_name == "x-amz-security-token" || lower_name == "authorization";
}

}  // namespace

namespace internal {

std::string AmzDate(TimePoint now) {
  using namespace std::chrono;
  const auto secs = floor<seconds>(now);
  const auto day = floor<days>(secs);
  const year_month_day ymd(day);
  const hh_mm_ss time(secs - day);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d%02u%02uT%02d%02d%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                static_cast<int>(time.seconds().count()));
  return buf;
}

CanonicalRequest BuildCanonicalRequest(const SignableRequest& request, std::string_view amz_date,
                                       std::string_view session_token) {
  std::vector<std::pair<std::string, std::string>> headers;
  headers.reserve(request.headers.size() + 3);
  for (const auto& [name, value] : request.headers) {
    std::string lower = AsciiLower(name);
    if (IsSuppliedBySigner(lower)) continue;
    headers.emplace_back(std::move(lower), TrimAll(value));
  }
  headers.emplace_back("host", TrimAll(request.host));
  headers.emplace_back("x-amz-date", std::string(amz_date));
  if (!session_token.empty()) headers.emplace_back("x-amz-security-token", TrimAll(session_token));
  // Stable, so repeated headers keep the order they are sent in when their values are joined.
  std::stable_sort(headers.begin(), headers.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });

  std::string canonical_headers;
  std::string signed_headers;
  for (size_t i = 0; i < headers.size(); ++i) {
    const bool repeat = i > 0 && headers[i].first == headers[i - 1].first;
    if (repeat) {
      canonical_headers.pop_back();  // the '\n' ending the previous value
      canonical_headers += ',';
    } else {
      if (!signed_headers.empty()) signed_headers += ';';
      signed_headers += headers[i].first;
      canonical_headers += headers[i].first;
      canonical_headers += ':';
    }
    canonical_headers += headers[i].second;
    canonical_headers += '\n';
  }

  CanonicalRequest out;
  out.text = request.method;
  out.text += '\n';
  out.text += CanonicalUri(request.path);
  out.text += '\n';
  out.text += CanonicalQuery(request.query);
  out.text += '\n';
  out.text += canonical_headers;
  out.text += '\n';
  out.text += signed_headers;
  out.text += '\n';
  out.text += Hex(AsString(Sha256(request.body)));
  out.signed_headers = std::move(signed_headers);
  return out;
}

std::string StringToSign(std::string_view canonical_request, std::string_view amz_date,
                         std::string_view scope) {
  std::string out = "AWS4-HMAC-SHA256\n";
  out += amz_date;
  out += '\n';
  out += scope;
  out += '\n';
  out += Hex(AsString(Sha256(canonical_request)));
  return out;
}

}  // namespace internal

std::vector<std::pair<std::string, std::string>> SignV4(const SignableRequest& request,
                                                        const Credentials& credentials,
                                                        std::string_view region,
                                                        std::string_view service, TimePoint now) {
  const std::string amz_date = internal::AmzDate(now);
  const std::string_view date = std::string_view(amz_date).substr(0, 8);
  std::string scope(date);
  scope += '/';
  scope += region;
  scope += '/';
  scope += service;
  scope += "/aws4_request";

  const internal::CanonicalRequest canonical =
      internal::BuildCanonicalRequest(request, amz_date, credentials.session_token);
  const std::string string_to_sign = internal::StringToSign(canonical.text, amz_date, scope);

  std::string secret = "AWS4" + credentials.secret_access_key;
  Digest key = HmacSha256(secret, date);
  key = HmacSha256(AsString(key), region);
  key = HmacSha256(AsString(key), service);
  key = HmacSha256(AsString(key), "aws4_request");
  const std::string signature = Hex(AsString(HmacSha256(AsString(key), string_to_sign)));
  // The derived key is as good as the secret for a day in this region and service.
  OPENSSL_cleanse(secret.data(), secret.size());
  OPENSSL_cleanse(key.data(), key.size());

  std::vector<std::pair<std::string, std::string>> out;
  out.emplace_back("X-Amz-Date", amz_date);
  if (!credentials.session_token.empty()) {
    out.emplace_back("X-Amz-Security-Token", credentials.session_token);
  }
  out.emplace_back("Authorization",
                   "AWS4-HMAC-SHA256 Credential=" + credentials.access_key_id + "/" + scope +
                       ", SignedHeaders=" + canonical.signed_headers + ", Signature=" + signature);
  return out;
}

}  // namespace footfall::aws
