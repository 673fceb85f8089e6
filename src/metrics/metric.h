// Counter, Gauge and Histogram: the values behind one Prometheus series. Every method is
// thread-safe and lock-free (relaxed atomics): the hot path increments from any number of threads.
// Readers (Registry::Render) see each atomic's latest value but no snapshot across them, so a
// histogram's _sum may lag its buckets by the observations in flight. Obtain them from a Family
// (registry.h); they are neither copyable nor movable so that cached references stay valid.
#pragma once

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace footfall::metrics {

// A monotonic count of events. Aligned to a cache line so that two hot series never share one.
class alignas(64) Counter {
 public:
  Counter() = default;
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  // Adds `n` (default 1). Wraps at 2^64, which Prometheus reads as a counter reset.
  void Increment(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  // The current count.
  uint64_t Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// A value that goes up and down (in-flight requests, readiness as 1/0).
class alignas(64) Gauge {
 public:
  Gauge() = default;
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;

  // Replaces the value.
  void Set(double value) { value_.store(value, std::memory_order_relaxed); }
  // Adds `delta` (negative to subtract).
  void Add(double delta) { value_.fetch_add(delta, std::memory_order_relaxed); }
  // The current value.
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

// Observations counted into fixed buckets. Bucket i counts values v with bounds[i-1] < v <=
// bounds[i]; one more bucket counts values above the last bound (+Inf). The bounds are checked by
// Registry::AddHistogram (strictly increasing, finite).
class alignas(64) Histogram {
 public:
  explicit Histogram(std::span<const double> bounds)
      : bounds_(bounds.begin(), bounds.end()),
        buckets_(std::make_unique<std::atomic<uint64_t>[]>(bounds.size() + 1)) {}
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  // Counts `value` in its bucket and adds it to the sum. NaN is ignored: it has no bucket and
  // would turn the sum into NaN for good.
  void Observe(double value) {
    if (std::isnan(value)) return;
    const size_t index = static_cast<size_t>(
        std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
    buckets_[index].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(value, std::memory_order_relaxed);
  }

  // The upper bounds, without the implicit +Inf.
  std::span<const double> bounds() const { return bounds_; }
  // Observations in bucket `index` alone (not cumulative); index bounds().size() is +Inf.
  uint64_t BucketCount(size_t index) const {
    return buckets_[index].load(std::memory_order_relaxed);
  }
  // The sum of all observations.
  double Sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  const std::vector<double> bounds_;
  const std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  std::atomic<double> sum_{0.0};
};

}  // namespace footfall::metrics
