// The identifiers and timestamps a visit record carries: UUIDv7 visit ids, ISO 8601 timestamps,
// day numbers for salt rotation, and the keyed visitor hash. Pure functions; thread-safe as long as
// the injected Random is.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/random.h"
#include "store/store.h"

namespace footfall::core {

// A UUIDv7 (RFC 9562) for `now`: 48-bit Unix milliseconds, version 7, variant 10, 74 random bits.
// Lower-case canonical text form, 36 characters.
std::string NewUuidV7(TimePoint now, Random& random);

// "YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC).
std::string FormatIso8601Millis(TimePoint t);

// Whole days since 1970-01-01 UTC; the salt of day d is used for visits on that UTC day.
int64_t UtcDayNumber(TimePoint t);

// Length of a visitor hash in hex characters: the first 128 bits of the HMAC.
inline constexpr size_t kVisitorHashHexLength = 32;

// The visitor hash: HMAC-SHA256 keyed with a day's salt over client address, user agent and site
// (each length-prefixed so fields cannot run into each other), truncated to 128 bits, as lower-case
// hex. Without the salt (destroyed after 48 h) the hash cannot be linked back to an address, even
// by trying all of them. A hasher computes the salt's HMAC key schedule once (a salt serves a whole
// day), which makes each hash about 3x cheaper than a one-shot HMAC. Thread-safe: Hash only reads.
class VisitorHasher {
 public:
  explicit VisitorHasher(const store::Salt& salt);
  ~VisitorHasher();
  VisitorHasher(const VisitorHasher&) = delete;
  VisitorHasher& operator=(const VisitorHasher&) = delete;

  std::string Hash(std::string_view client_address, std::string_view user_agent,
                   std::string_view site) const;

 private:
  struct KeySchedule;
  std::unique_ptr<KeySchedule> schedule_;
};

// VisitorHasher(salt).Hash(...), for one-off use.
std::string VisitorHash(const store::Salt& salt, std::string_view client_address,
                        std::string_view user_agent, std::string_view site);

}  // namespace footfall::core
