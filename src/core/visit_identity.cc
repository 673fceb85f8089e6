#include "core/visit_identity.h"

#include "base/utc_time.h"

#include <openssl/hmac.h>

#include <array>
#include <chrono>

namespace footfall::core {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

void AppendHex(std::string& out, const uint8_t* data, size_t size) {
  for (size_t i = 0; i < size; ++i) {
    out.push_back(kHexDigits[data[i] >> 4]);
    out.push_back(kHexDigits[data[i] & 0xf]);
  }
}

void AppendLengthPrefixed(std::string& out, std::string_view field) {
  const auto size = static_cast<uint32_t>(field.size());
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(size >> shift));
  out.append(field);
}

}  // namespace

std::string NewUuidV7(TimePoint now, Random& random) {
  std::array<uint8_t, 16> bytes;
  random.Fill(std::span<uint8_t>(bytes.data() + 6, 10));
  const auto millis = static_cast<uint64_t>(UnixMillis(now));
  for (int i = 0; i < 6; ++i) bytes[i] = static_cast<uint8_t>(millis >> (8 * (5 - i)));
  bytes[6] = static_cast<uint8_t>(0x70 | (bytes[6] & 0x0f));  // version 7
  bytes[8] = static_cast<uint8_t>(0x80 | (bytes[8] & 0x3f));  // variant 10
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    AppendHex(out, &bytes[i], 1);
  }
  return out;
}

std::string FormatIso8601Millis(TimePoint t) { return FormatUtcMillis(UnixMillis(t)); }

int64_t UtcDayNumber(TimePoint t) {
  return std::chrono::floor<std::chrono::days>(t).time_since_epoch().count();
}

std::string VisitorHash(const store::Salt& salt, std::string_view client_address,
                        std::string_view user_agent, std::string_view site) {
  std::string message;
  message.reserve(client_address.size() + user_agent.size() + site.size() + 12);
  AppendLengthPrefixed(message, client_address);
  AppendLengthPrefixed(message, user_agent);
  AppendLengthPrefixed(message, site);
  uint8_t digest[32];
  unsigned int digest_length = 0;
  HMAC(EVP_sha256(), salt.data(), static_cast<int>(salt.size()),
       reinterpret_cast<const uint8_t*>(message.data()), message.size(), digest, &digest_length);
  std::string out;
  out.reserve(kVisitorHashHexLength);
  AppendHex(out, digest, kVisitorHashHexLength / 2);
  return out;
}

}  // namespace footfall::core
