#include "core/rate_limiter.h"

#include <gtest/gtest.h>

namespace footfall::core {
namespace {

const TimePoint kStart = TimePoint(std::chrono::seconds(1'795'600'800));

TEST(RateLimiterTest, AVisitorGetsABurstThenTheRefillRate) {
  RateLimiter limiter({.visitor_per_minute = 60, .global_per_second = 0, .max_visitors = 10});
  for (int i = 0; i < 60; ++i) EXPECT_FALSE(limiter.Acquire(1, kStart).has_value()) << i;
  std::optional<int> retry = limiter.Acquire(1, kStart);
  ASSERT_TRUE(retry.has_value());
  EXPECT_EQ(*retry, 1);  // one token per second
  EXPECT_FALSE(limiter.Acquire(2, kStart).has_value()) << "other visitors are not affected";
  EXPECT_FALSE(limiter.Acquire(1, kStart + std::chrono::seconds(1)).has_value());
  EXPECT_TRUE(limiter.Acquire(1, kStart + std::chrono::seconds(1)).has_value());
}

TEST(RateLimiterTest, TheGlobalBucketLimitsEveryoneTogether) {
  RateLimiter limiter({.visitor_per_minute = 0, .global_per_second = 10, .max_visitors = 10});
  for (uint64_t key = 0; key < 10; ++key) EXPECT_FALSE(limiter.Acquire(key, kStart).has_value());
  EXPECT_EQ(limiter.Acquire(99, kStart), 1);
  EXPECT_FALSE(limiter.Acquire(99, kStart + std::chrono::milliseconds(100)).has_value());
  EXPECT_EQ(limiter.size(), 0u) << "no visitor buckets without a visitor limit";
}

TEST(RateLimiterTest, ARefusedRequestTakesNoToken) {
  RateLimiter limiter({.visitor_per_minute = 60, .global_per_second = 1, .max_visitors = 10});
  EXPECT_FALSE(limiter.Acquire(1, kStart).has_value());
  EXPECT_TRUE(limiter.Acquire(1, kStart).has_value());  // global empty
  // The visitor's token was not spent on the refused request: 58 left after 1 s refill of both.
  for (int i = 0; i < 5; ++i) {
    EXPECT_FALSE(limiter.Acquire(1, kStart + std::chrono::seconds(1 + i)).has_value()) << i;
  }
}

TEST(RateLimiterTest, MemoryIsBoundedByEvictingTheLeastRecentlyUsed) {
  RateLimiter limiter({.visitor_per_minute = 1, .global_per_second = 0, .max_visitors = 160});
  for (uint64_t key = 0; key < 100'000; ++key) limiter.Acquire(key, kStart);
  EXPECT_LE(limiter.size(), 160u);
  EXPECT_GE(limiter.size(), 144u);
  // A visitor still in the table stays limited.
  EXPECT_TRUE(limiter.Acquire(99'999, kStart).has_value());
}

}  // namespace
}  // namespace footfall::core
