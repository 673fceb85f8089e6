#include "metrics/registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace footfall::metrics {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(RegistryTest, RendersEveryTypeSortedByNameInTextFormat) {
  Registry registry;
  Family<Histogram>* latency = registry.AddHistogram("footfall_http_request_duration_seconds",
                                                     "Time to answer.", {0.005, 0.1}, {"route"})
                                   .value();
  Family<Counter>* requests = registry.AddCounter("footfall_http_requests_total",
                                                  "Requests answered.", {"route", "status"})
                                  .value();
  Family<Gauge>* ready = registry.AddGauge("footfall_store_ready", "1 when ready.").value();
  ASSERT_TRUE(registry.AddGaugeCallback("footfall_rate_limiter_buckets", "Buckets.", [] {
    return 3.0;
  }).ok());

  requests->WithLabels({"route", "/count"}, {"status", "200"}).Increment(2);
  requests->WithLabels({"status", "404"}, {"route", "/"}).Increment();  // any order
  latency->WithLabels({"route", "/count"}).Observe(0.005);
  latency->WithLabels({"route", "/count"}).Observe(0.05);
  latency->WithLabels({"route", "/count"}).Observe(2);
  ready->WithLabels().Set(1);

  EXPECT_EQ(registry.Render(),
            "# HELP footfall_http_request_duration_seconds Time to answer.\n"
            "# TYPE footfall_http_request_duration_seconds histogram\n"
            "footfall_http_request_duration_seconds_bucket{route=\"/count\",le=\"0.005\"} 1\n"
            "footfall_http_request_duration_seconds_bucket{route=\"/count\",le=\"0.1\"} 2\n"
            "footfall_http_request_duration_seconds_bucket{route=\"/count\",le=\"+Inf\"} 3\n"
            "footfall_http_request_duration_seconds_sum{route=\"/count\"} 2.055\n"
            "footfall_http_request_duration_seconds_count{route=\"/count\"} 3\n"
            "# HELP footfall_http_requests_total Requests answered.\n"
            "# TYPE footfall_http_requests_total counter\n"
            "footfall_http_requests_total{route=\"/\",status=\"404\"} 1\n"
            "footfall_http_requests_total{route=\"/count\",status=\"200\"} 2\n"
            "# HELP footfall_rate_limiter_buckets Buckets.\n"
            "# TYPE footfall_rate_limiter_buckets gauge\n"
            "footfall_rate_limiter_buckets 3\n"
            "# HELP footfall_store_ready 1 when ready.\n"
            "# TYPE footfall_store_ready gauge\n"
            "footfall_store_ready 1\n");
}

TEST(RegistryTest, UnlabelledMetricsAreExportedAsZeroAndLabelledOnesOnlyOnceUsed) {
  Registry registry;
  ASSERT_TRUE(registry.AddCounter("a_total", "A.").ok());
  ASSERT_TRUE(registry.AddCounter("b_total", "B.", {"reason"}).ok());
  ASSERT_TRUE(registry.AddHistogram("c", "C.", {1}).ok());
  EXPECT_EQ(registry.Render(),
            "# HELP a_total A.\n# TYPE a_total counter\na_total 0\n"
            "# HELP c C.\n# TYPE c histogram\n"
            "c_bucket{le=\"1\"} 0\nc_bucket{le=\"+Inf\"} 0\nc_sum 0\nc_count 0\n");
}

TEST(RegistryTest, WithLabelsReturnsTheSameSeriesEveryTime) {
  Registry registry;
  Family<Counter>& family = *registry.AddCounter("x_total", "X.", {"a", "b"}).value();
  Counter& first = family.WithLabels({"a", "1"}, {"b", "2"});
  Counter& again = family.WithLabels({{"b", "2"}, {"a", "1"}});
  Counter& other = family.WithLabels({"a", "1"}, {"b", "3"});
  EXPECT_EQ(&first, &again);
  EXPECT_NE(&first, &other);
  EXPECT_EQ(family.series_count(), 2u);
}

TEST(RegistryTest, EscapesHelpAndLabelValues) {
  Registry registry;
  Family<Counter>& family =
      *registry.AddCounter("x_total", "Line one\nback\\slash \"as is\"", {"path"}).value();
  family.WithLabels({"path", "/a\"b\\c\nd"}).Increment();
  family.WithLabels({"path", "bad\xFFutf8"}).Increment();
  EXPECT_EQ(registry.Render(),
            "# HELP x_total Line one\\nback\\\\slash \"as is\"\n"
            "# TYPE x_total counter\n"
            "x_total{path=\"/a\\\"b\\\\c\\nd\"} 1\n"
            "x_total{path=\"bad\xEF\xBF\xBDutf8\"} 1\n");
}

TEST(RegistryTest, SeriesBeyondTheCapGoToTheOverflowSeries) {
  Registry registry(RegistryOptions{.max_series_per_family = 2});
  Family<Counter>& family = *registry.AddCounter("x_total", "X.", {"path"}).value();
  family.WithLabels({"path", "/b"}).Increment();
  family.WithLabels({"path", "/a"}).Increment();
  Counter& overflow = family.WithLabels({"path", "/c"});
  overflow.Increment();
  EXPECT_EQ(&family.WithLabels({"path", "/d"}), &overflow);
  family.WithLabels({"path", "/d"}).Increment(3);
  family.WithLabels({"path", "/a"}).Increment();  // existing series still count for themselves
  EXPECT_EQ(family.series_count(), 2u);
  EXPECT_EQ(registry.Render(),
            "# HELP x_total X.\n# TYPE x_total counter\n"
            "x_total{path=\"/a\"} 2\n"
            "x_total{path=\"/b\"} 1\n"
            "x_total{overflow=\"true\"} 4\n");
}

TEST(RegistryTest, WrongLabelNamesGoToTheOverflowSeries) {
  Registry registry;
  Family<Histogram>& family = *registry.AddHistogram("h", "H.", {1}, {"op"}).value();
  Histogram& overflow = family.WithLabels({"operation", "x"});
  EXPECT_EQ(&family.WithLabels(), &overflow);
  EXPECT_EQ(&family.WithLabels({"op", "x"}, {"op", "y"}), &overflow);
  overflow.Observe(0.5);
  EXPECT_EQ(family.series_count(), 0u);
  EXPECT_EQ(registry.Render(),
            "# HELP h H.\n# TYPE h histogram\n"
            "h_bucket{overflow=\"true\",le=\"1\"} 1\n"
            "h_bucket{overflow=\"true\",le=\"+Inf\"} 1\n"
            "h_sum{overflow=\"true\"} 0.5\n"
            "h_count{overflow=\"true\"} 1\n");
}

TEST(RegistryTest, RejectsBadNamesAndBounds) {
  Registry registry;
  EXPECT_EQ(registry.AddCounter("requests", "no _total").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.AddGauge("1x", "").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.AddGauge("g", "", {"__x"}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.AddGauge("g", "", {"overflow"}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.AddGauge("g", "", {"a", "a"}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.AddHistogram("h", "", {1}, {"le"}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.AddHistogram("h", "", {1, 1}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.AddHistogram("h", "", {2, 1}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.AddHistogram("h", "", {1, std::numeric_limits<double>::infinity()})
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.AddGaugeCallback("cb", "", nullptr).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(registry.Render(), "");
}

TEST(RegistryTest, CounterCallbackRendersAsACounterAndNeedsTotal) {
  Registry registry;
  EXPECT_EQ(registry.AddCounterCallback("escaped", "", [] { return 1.0; }).code(),
            StatusCode::kInvalidArgument);
  ASSERT_TRUE(registry.AddCounterCallback("escaped_total", "Caught.", [] { return 2.0; }).ok());
  EXPECT_EQ(registry.Render(),
            "# HELP escaped_total Caught.\n# TYPE escaped_total counter\nescaped_total 2\n");
}

TEST(RegistryTest, RejectsNamesTakenByAnotherFamilysSamples) {
  Registry registry;
  ASSERT_TRUE(registry.AddHistogram("latency", "", {1}).ok());
  EXPECT_EQ(registry.AddGauge("latency", "").status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(registry.AddGauge("latency_count", "").status().code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE(registry.AddGauge("size_sum", "").ok());
  EXPECT_EQ(registry.AddHistogram("size", "", {1}).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(registry.AddGaugeCallback("size_sum", "", [] { return 0.0; }).code(),
            StatusCode::kAlreadyExists);
}

TEST(RegistryTest, ConcurrentWithLabelsAndRenderAgreeOnTotals) {
  Registry registry(RegistryOptions{.max_series_per_family = 16});
  Family<Counter>& family = *registry.AddCounter("x_total", "X.", {"n"}).value();
  std::atomic<bool> stop{false};
  std::thread renderer([&] {
    while (!stop.load()) EXPECT_THAT(registry.Render(), Not(HasSubstr("nan")));
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5000; ++i) {
        family.WithLabels({"n", std::to_string((t * 7 + i) % 20)}).Increment();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  stop = true;
  renderer.join();
  uint64_t total = family.WithLabels({"n", "overflow-bound"}).Value();  // the overflow series
  for (int n = 0; n < 20; ++n) {
    Counter& series = family.WithLabels({"n", std::to_string(n)});
    if (&series != &family.WithLabels({"n", "overflow-bound"})) total += series.Value();
  }
  EXPECT_EQ(family.series_count(), 16u);
  EXPECT_EQ(total, 20000u);
}

TEST(BucketsTest, LatencyAndExponential) {
  EXPECT_EQ(LatencyBuckets().front(), 0.0005);
  EXPECT_EQ(LatencyBuckets().back(), 10);
  EXPECT_EQ(ExponentialBuckets(1, 2, 4), (std::vector<double>{1, 2, 4, 8}));
}

}  // namespace
}  // namespace footfall::metrics
