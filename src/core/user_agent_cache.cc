#include "core/user_agent_cache.h"

#include <algorithm>
#include <utility>

namespace footfall::core {

UserAgentCache::UserAgentCache(size_t capacity, Classifier classify)
    : generation_size_(std::max<size_t>(1, (capacity + 2 * kShards - 1) / (2 * kShards))),
      classify_(classify ? std::move(classify)
                         : Classifier([](std::string_view ua) { return ClassifyUserAgent(ua); })) {}

UserAgentInfo UserAgentCache::Classify(std::string_view user_agent) {
  const std::string_view text = user_agent.substr(0, kMaxClassifiedUserAgentBytes);
  const Probe key{std::hash<std::string_view>{}(text), text};
  // The high bits pick the shard; the map buckets by the low ones.
  Shard& shard = shards_[(key.hash >> 32) % kShards];
  {
    std::lock_guard<std::mutex> lock(shard.mutex);
    if (auto it = shard.current.find(key); it != shard.current.end()) return it->second;
    if (auto it = shard.previous.find(key); it != shard.previous.end()) {
      const UserAgentInfo info = it->second;
      shard.previous.erase(it);
      Insert(shard, key, info);
      return info;
    }
  }
  // Classified outside the lock: a miss costs up to tens of microseconds on a cold DFA, and other
  // user agents of the shard must not wait for it. Two threads may classify the same new user
  // agent at once; both get the same answer and the second insertion finds it present.
  const UserAgentInfo info = classify_(text);
  std::lock_guard<std::mutex> lock(shard.mutex);
  if (!shard.current.contains(key)) Insert(shard, key, info);
  return info;
}

void UserAgentCache::Insert(Shard& shard, const Probe& key, const UserAgentInfo& info) {
  if (shard.current.size() >= generation_size_) {
    shard.previous = std::move(shard.current);
    shard.current = Map();
    shard.current.reserve(generation_size_);
  }
  shard.current.emplace(std::string(key.text), info);
}

size_t UserAgentCache::size() const {
  size_t total = 0;
  for (const Shard& shard : shards_) {
    std::lock_guard<std::mutex> lock(shard.mutex);
    total += shard.current.size() + shard.previous.size();
  }
  return total;
}

}  // namespace footfall::core
