#include "core/rate_limiter.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace footfall::core {

RateLimiter::RateLimiter(RateLimitOptions options) : options_(options) {
  global_.tokens = options_.global_per_second;
}

void RateLimiter::Refill(Bucket& bucket, TimePoint now, double rate, double capacity) {
  if (now > bucket.updated) {
    const double elapsed = std::chrono::duration<double>(now - bucket.updated).count();
    bucket.tokens = std::min(capacity, bucket.tokens + elapsed * rate);
  }
  bucket.updated = std::max(bucket.updated, now);
}

std::optional<int> RateLimiter::Acquire(uint64_t visitor_key, TimePoint now) {
  const double visitor_rate = options_.visitor_per_minute / 60.0;
  const double visitor_capacity = options_.visitor_per_minute;
  Bucket* visitor = nullptr;
  Shard& shard = shards_[visitor_key % kShards];
  std::unique_lock shard_lock(shard.mu, std::defer_lock);
  if (options_.visitor_per_minute > 0) {
    shard_lock.lock();
    auto it = shard.buckets.find(visitor_key);
    if (it == shard.buckets.end()) {
      const size_t shard_cap = std::max<size_t>(1, options_.max_visitors / kShards);
      if (shard.buckets.size() >= shard_cap) {
        shard.buckets.erase(shard.lru.back());
        shard.lru.pop_back();
      }
      shard.lru.push_front(visitor_key);
      it = shard.buckets.emplace(visitor_key, Entry{{visitor_capacity, now}, shard.lru.begin()}).first;
    } else {
      shard.lru.splice(shard.lru.begin(), shard.lru, it->second.lru);
    }
    visitor = &it->second.bucket;
    Refill(*visitor, now, visitor_rate, visitor_capacity);
    if (visitor->tokens < 1) {
      return std::max(1, static_cast<int>(std::ceil((1 - visitor->tokens) / visitor_rate)));
    }
  }
  if (options_.global_per_second > 0) {
    std::lock_guard global_lock(global_mu_);
    Refill(global_, now, options_.global_per_second, options_.global_per_second);
    if (global_.tokens < 1) return 1;
    global_.tokens -= 1;
  }
  if (visitor != nullptr) visitor->tokens -= 1;
  return std::nullopt;
}

size_t RateLimiter::size() const {
  size_t total = 0;
  for (const Shard& shard : shards_) {
    std::lock_guard lock(shard.mu);
    total += shard.buckets.size();
  }
  return total;
}

}  // namespace footfall::core
