// UserAgentCache: ClassifyUserAgent's answers for the user agents seen recently, so that a
// returning browser costs one hash lookup rather than a classification (a token scan and a pass of
// the crawler-list DFA). Bounded: at most `capacity` user agents, each up to
// kMaxClassifiedUserAgentBytes. Thread-safe: 16 shards, each with its own mutex, held only for the
// lookup or the insertion, never while classifying.
#pragma once

#include <array>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/user_agent.h"

namespace footfall::core {

class UserAgentCache {
 public:
  using Classifier = std::function<UserAgentInfo(std::string_view user_agent)>;

  // The default capacity: more distinct user agents than a small site sees in a day.
  static constexpr size_t kDefaultCapacity = 4096;

  // `classify` answers for a user agent not in the cache; by default ClassifyUserAgent (with the
  // crawler list). `capacity` is rounded up to a multiple of twice the shard count.
  explicit UserAgentCache(size_t capacity = kDefaultCapacity, Classifier classify = nullptr);

  UserAgentCache(const UserAgentCache&) = delete;
  UserAgentCache& operator=(const UserAgentCache&) = delete;

  // The classification of `user_agent` (its first kMaxClassifiedUserAgentBytes bytes): from the
  // cache, or computed and remembered. When a shard is full, the user agents not asked for since
  // the shard last filled up are forgotten (two generations: an approximation of least recently
  // used without a list to maintain).
  UserAgentInfo Classify(std::string_view user_agent);

  // User agents remembered now (at most the capacity).
  size_t size() const;

 private:
  static constexpr size_t kShards = 16;

  // A lookup key with its hash computed once, for the shard and the map alike.
  struct Probe {
    size_t hash;
    std::string_view text;
  };
  struct Hash {
    using is_transparent = void;
    size_t operator()(const Probe& probe) const { return probe.hash; }
    size_t operator()(const std::string& text) const { return std::hash<std::string_view>{}(text); }
  };
  struct Equal {
    using is_transparent = void;
    bool operator()(const Probe& a, const std::string& b) const { return a.text == b; }
    bool operator()(const std::string& a, const Probe& b) const { return a == b.text; }
    bool operator()(const std::string& a, const std::string& b) const { return a == b; }
  };
  using Map = std::unordered_map<std::string, UserAgentInfo, Hash, Equal>;

  struct Shard {
    mutable std::mutex mutex;
    Map current;   // asked for since the last turnover; at most generation_size_ entries
    Map previous;  // the generation before: moved to current when asked for again
  };

  // Records `info` under `key` in `shard` (locked by the caller), turning generations over first
  // if the current one is full.
  void Insert(Shard& shard, const Probe& key, const UserAgentInfo& info);

  const size_t generation_size_;
  const Classifier classify_;
  std::array<Shard, kShards> shards_;
};

}  // namespace footfall::core
