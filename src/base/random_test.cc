#include "base/random.h"

#include <gtest/gtest.h>

#include <array>

namespace footfall {
namespace {

TEST(RandomTest, FakeRandomIsDeterministicPerSeed) {
  FakeRandom a(7), b(7), c(8);
  std::array<uint8_t, 16> x{}, y{}, z{};
  a.Fill(x);
  b.Fill(y);
  c.Fill(z);
  EXPECT_EQ(x, y);
  EXPECT_NE(x, z);
}

TEST(RandomTest, OsRandomFillsDifferentBytesEachTime) {
  OsRandom random;
  std::array<uint8_t, 32> x{}, y{};
  random.Fill(x);
  random.Fill(y);
  EXPECT_NE(x, y);
}

}  // namespace
}  // namespace footfall
