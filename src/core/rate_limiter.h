// RateLimiter: token buckets for footfall's own throttling (the seed gets this from API Gateway
// and WAF). One bucket per visitor key and one global bucket; a request takes a token from both.
// Visitor keys are 64-bit keyed hashes of the client address (see Service), so no address is kept
// here. Memory is bounded: at most `max_visitors` buckets, the least recently used evicted first
// (an evicted visitor starts again with a full bucket: a flood of distinct addresses costs the
// attacker its own buckets, never unbounded memory). Thread-safe: sharded by key, one mutex per
// shard.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "base/clock.h"

namespace footfall::core {

struct RateLimitOptions {
  // Requests a visitor may make per minute (the bucket refills at this rate and holds one
  // minute's worth). 0: no per-visitor limit. Default 120.
  double visitor_per_minute = 120;
  // Requests per second from everyone together (the bucket holds one second's worth). 0: no
  // global limit. Default 5000.
  double global_per_second = 5000;
  // Most visitor buckets kept. Default 100000 (~10 MB).
  size_t max_visitors = 100000;
};

class RateLimiter {
 public:
  explicit RateLimiter(RateLimitOptions options);

  // Takes one token for `visitor_key` and one global token. Returns nullopt when allowed, else
  // the seconds until a retry could succeed (>= 1, for Retry-After); nothing is taken then.
  std::optional<int> Acquire(uint64_t visitor_key, TimePoint now);

  // Visitor buckets currently held.
  size_t size() const;

 private:
  struct Bucket {
    double tokens = 0;
    TimePoint updated{};
  };
  struct Entry {
    Bucket bucket;
    std::list<uint64_t>::iterator lru;
  };
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<uint64_t, Entry> buckets;
    std::list<uint64_t> lru;  // most recently used first
  };
  static constexpr size_t kShards = 16;

  // Refills `bucket` to `now` at `rate` per second up to `capacity`.
  static void Refill(Bucket& bucket, TimePoint now, double rate, double capacity);

  const RateLimitOptions options_;
  std::array<Shard, kShards> shards_;
  std::mutex global_mu_;
  Bucket global_;  // guarded by global_mu_
};

}  // namespace footfall::core
