#include "core/visit_identity.h"

#include <gtest/gtest.h>

#include <thread>

#include <chrono>
#include <set>

namespace footfall::core {
namespace {

using std::chrono::milliseconds;

TimePoint At(int64_t unix_millis) { return TimePoint(milliseconds(unix_millis)); }

TEST(UuidV7Test, HasVersionVariantAndTimestamp) {
  FakeRandom random(1);
  const std::string id = NewUuidV7(At(0x0123456789ab), random);
  ASSERT_EQ(id.size(), 36u);
  EXPECT_EQ(id.substr(0, 13), "01234567-89ab");
  EXPECT_EQ(id[14], '7');
  EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos);
}

TEST(UuidV7Test, UniqueAndOrderedAcrossMilliseconds) {
  FakeRandom random(2);
  std::set<std::string> ids;
  std::string previous;
  for (int64_t ms = 1'700'000'000'000; ms < 1'700'000'000'000 + 1000; ++ms) {
    std::string id = NewUuidV7(At(ms), random);
    EXPECT_LT(previous, id);
    previous = id;
    ids.insert(id);
  }
  for (int i = 0; i < 1000; ++i) ids.insert(NewUuidV7(At(1'700'000'000'000), random));
  EXPECT_EQ(ids.size(), 2000u);
}

TEST(TimeFormatTest, Iso8601WithMillisecondsUtc) {
  EXPECT_EQ(FormatIso8601Millis(At(0)), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatIso8601Millis(At(1'764'077'203'123)), "2025-11-25T13:26:43.123Z");
}

TEST(DayNumberTest, ChangesAtUtcMidnight) {
  EXPECT_EQ(UtcDayNumber(At(86'400'000 - 1)), 0);
  EXPECT_EQ(UtcDayNumber(At(86'400'000)), 1);
}

TEST(VisitorHashTest, IsStandardHmacSha256OfTheLengthPrefixedFields) {
  // Expected value from Python: hmac.new(bytes(range(32)), b"".join(struct.pack(">I", len(f)) + f
  // for f in fields), hashlib.sha256).hexdigest()[:32]
  store::Salt salt;
  for (size_t i = 0; i < salt.size(); ++i) salt[i] = static_cast<uint8_t>(i);
  const VisitorHasher hasher(salt);
  EXPECT_EQ(hasher.Hash("203.0.113.9", "Mozilla/5.0 (X11; Linux x86_64)", "a.example"),
            "253efc79e3f1544f39029b568545409f");
  // The key schedule is reused: a second hash (and one on another thread) is the same.
  EXPECT_EQ(hasher.Hash("203.0.113.9", "Mozilla/5.0 (X11; Linux x86_64)", "a.example"),
            "253efc79e3f1544f39029b568545409f");
  std::string on_other_thread;
  std::thread([&] {
    on_other_thread = hasher.Hash("203.0.113.9", "Mozilla/5.0 (X11; Linux x86_64)", "a.example");
  }).join();
  EXPECT_EQ(on_other_thread, "253efc79e3f1544f39029b568545409f");
}

TEST(VisitorHashTest, KeyedBySaltAndAllFields) {
  store::Salt salt_a{}, salt_b{};
  salt_b[0] = 1;
  const std::string base = VisitorHash(salt_a, "203.0.113.9", "UA", "a.example");
  EXPECT_EQ(base.size(), kVisitorHashHexLength);
  EXPECT_EQ(base, VisitorHash(salt_a, "203.0.113.9", "UA", "a.example"));
  EXPECT_NE(base, VisitorHash(salt_b, "203.0.113.9", "UA", "a.example"));
  EXPECT_NE(base, VisitorHash(salt_a, "203.0.113.8", "UA", "a.example"));
  EXPECT_NE(base, VisitorHash(salt_a, "203.0.113.9", "UA2", "a.example"));
  EXPECT_NE(base, VisitorHash(salt_a, "203.0.113.9", "UA", "b.example"));
  // Length prefixes keep field boundaries: moving a character across them changes the hash.
  EXPECT_NE(VisitorHash(salt_a, "ab", "c", "s"), VisitorHash(salt_a, "a", "bc", "s"));
  EXPECT_EQ(base.find("203.0.113.9"), std::string::npos);
}

}  // namespace
}  // namespace footfall::core
