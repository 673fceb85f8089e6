#include "core/visit_identity.h"

#include "base/utc_time.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <array>
#include <chrono>
#include <memory>
#include <tuple>

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

// HMAC (RFC 2104) with the two padded-key blocks already absorbed: H((K^opad) || H((K^ipad) || m)).
struct VisitorHasher::KeySchedule {
  EVP_MD_CTX* inner = EVP_MD_CTX_new();  // SHA-256 state after the K^ipad block
  EVP_MD_CTX* outer = EVP_MD_CTX_new();  // SHA-256 state after the K^opad block
  ~KeySchedule() {
    EVP_MD_CTX_free(inner);
    EVP_MD_CTX_free(outer);
  }
};

namespace {

constexpr size_t kSha256BlockBytes = 64;
static_assert(std::tuple_size_v<store::Salt> <= kSha256BlockBytes,
              "a longer salt would have to be hashed down to a key first (RFC 2104)");

struct DigestContextDeleter {
  void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
};

// One scratch context per thread, reused: copying a schedule into it allocates nothing new.
EVP_MD_CTX* ScratchContext() {
  thread_local std::unique_ptr<EVP_MD_CTX, DigestContextDeleter> scratch(EVP_MD_CTX_new());
  return scratch.get();
}

// `context` = `schedule`, then absorbs `data` and writes the 32-byte digest to `digest`.
void Digest(EVP_MD_CTX* context, const EVP_MD_CTX* schedule, const void* data, size_t size,
            uint8_t* digest) {
  unsigned int length = 0;
  EVP_MD_CTX_copy_ex(context, schedule);
  EVP_DigestUpdate(context, data, size);
  EVP_DigestFinal_ex(context, digest, &length);
}

}  // namespace

VisitorHasher::VisitorHasher(const store::Salt& salt) : schedule_(std::make_unique<KeySchedule>()) {
  uint8_t inner_pad[kSha256BlockBytes], outer_pad[kSha256BlockBytes];
  for (size_t i = 0; i < kSha256BlockBytes; ++i) {
    const uint8_t key_byte = i < salt.size() ? salt[i] : 0;
    inner_pad[i] = key_byte ^ 0x36;
    outer_pad[i] = key_byte ^ 0x5c;
  }
  EVP_DigestInit_ex(schedule_->inner, EVP_sha256(), nullptr);
  EVP_DigestUpdate(schedule_->inner, inner_pad, sizeof inner_pad);
  EVP_DigestInit_ex(schedule_->outer, EVP_sha256(), nullptr);
  EVP_DigestUpdate(schedule_->outer, outer_pad, sizeof outer_pad);
  OPENSSL_cleanse(inner_pad, sizeof inner_pad);
  OPENSSL_cleanse(outer_pad, sizeof outer_pad);
}

VisitorHasher::~VisitorHasher() = default;

std::string VisitorHasher::Hash(std::string_view client_address, std::string_view user_agent,
                                std::string_view site) const {
  std::string message;
  message.reserve(client_address.size() + user_agent.size() + site.size() + 12);
  AppendLengthPrefixed(message, client_address);
  AppendLengthPrefixed(message, user_agent);
  AppendLengthPrefixed(message, site);
  EVP_MD_CTX* scratch = ScratchContext();
  uint8_t inner_digest[32], digest[32];
  Digest(scratch, schedule_->inner, message.data(), message.size(), inner_digest);
  Digest(scratch, schedule_->outer, inner_digest, sizeof inner_digest, digest);
  std::string out;
  out.reserve(kVisitorHashHexLength);
  AppendHex(out, digest, kVisitorHashHexLength / 2);
  return out;
}

std::string VisitorHash(const store::Salt& salt, std::string_view client_address,
                        std::string_view user_agent, std::string_view site) {
  return VisitorHasher(salt).Hash(client_address, user_agent, site);
}

}  // namespace footfall::core
