#include "metrics/metric.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <thread>
#include <vector>

namespace footfall::metrics {
namespace {

TEST(CounterTest, CountsFromManyThreadsWithoutLosingIncrements) {
  Counter counter;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100000; ++i) counter.Increment();
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(counter.Value(), 800000u);
  counter.Increment(5);
  EXPECT_EQ(counter.Value(), 800005u);
}

TEST(GaugeTest, SetsAndAddsFromManyThreads) {
  Gauge gauge;
  gauge.Set(10);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        gauge.Add(1);
        gauge.Add(-1);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(gauge.Value(), 10.0);
  gauge.Add(-12.5);
  EXPECT_EQ(gauge.Value(), -2.5);
}

TEST(HistogramTest, BoundIsInclusiveAndAboveLastGoesToInf) {
  const std::vector<double> bounds = {0.1, 1};
  Histogram histogram(bounds);
  histogram.Observe(0.05);
  histogram.Observe(0.1);   // le="0.1" includes 0.1
  histogram.Observe(0.5);
  histogram.Observe(1);
  histogram.Observe(7);
  histogram.Observe(std::numeric_limits<double>::quiet_NaN());  // ignored
  EXPECT_EQ(histogram.BucketCount(0), 2u);
  EXPECT_EQ(histogram.BucketCount(1), 2u);
  EXPECT_EQ(histogram.BucketCount(2), 1u);
  EXPECT_DOUBLE_EQ(histogram.Sum(), 8.65);
}

TEST(HistogramTest, WithoutBoundsEverythingIsInInf) {
  Histogram histogram(std::span<const double>{});
  histogram.Observe(-3);
  EXPECT_EQ(histogram.BucketCount(0), 1u);
  EXPECT_EQ(histogram.Sum(), -3);
}

TEST(HistogramTest, ObservesFromManyThreadsExactly) {
  const std::vector<double> bounds = {1, 2};
  Histogram histogram(bounds);
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&] {
      // Quarters are exact in binary, so the sum is exact whatever the order of the additions.
      for (int i = 0; i < 20000; ++i) histogram.Observe(0.25 * (i % 12));
    });
  }
  for (std::thread& thread : threads) thread.join();
  // Per thread, i % 12 in 0..4 -> <= 1, 5..8 -> <= 2, 9..11 -> +Inf.
  uint64_t total = 0;
  for (size_t i = 0; i < 3; ++i) total += histogram.BucketCount(i);
  EXPECT_EQ(total, 120000u);
  const int per_cycle_low = 5, per_cycle_mid = 4;
  const int cycles = 20000 / 12, rest = 20000 % 12;  // rest = 8: 0..4 low, 5..7 mid
  EXPECT_EQ(histogram.BucketCount(0), 6u * (cycles * per_cycle_low + 5));
  EXPECT_EQ(histogram.BucketCount(1), 6u * (cycles * per_cycle_mid + (rest - 5)));
  double expected_sum = 0;
  for (int i = 0; i < 20000; ++i) expected_sum += 0.25 * (i % 12);
  EXPECT_EQ(histogram.Sum(), 6 * expected_sum);
}

}  // namespace
}  // namespace footfall::metrics
