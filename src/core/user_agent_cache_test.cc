#include "core/user_agent_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace footfall::core {
namespace {

constexpr std::string_view kChrome =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36";

TEST(UserAgentCacheTest, AnswersAsClassifyUserAgentDoes) {
  UserAgentCache cache;
  for (std::string_view ua :
       {kChrome, std::string_view("Googlebot/2.1 (+http://www.google.com/bot.html)"),
        std::string_view("curl/8.5.0"), std::string_view("")}) {
    for (int i = 0; i < 2; ++i) {  // computed, then cached
      const UserAgentInfo cached = cache.Classify(ua);
      const UserAgentInfo direct = ClassifyUserAgent(ua);
      EXPECT_EQ(cached.browser, direct.browser);
      EXPECT_EQ(cached.os, direct.os);
      EXPECT_EQ(cached.device, direct.device);
      EXPECT_EQ(cached.is_bot, direct.is_bot);
      EXPECT_EQ(cached.bot_kind, direct.bot_kind);
    }
  }
  EXPECT_EQ(cache.size(), 4u);
}

TEST(UserAgentCacheTest, ClassifiesEachUserAgentOnce) {
  int calls = 0;
  UserAgentCache cache(64, [&](std::string_view ua) {
    ++calls;
    return ClassifyUserAgent(ua);
  });
  for (int i = 0; i < 10; ++i) cache.Classify(kChrome);
  EXPECT_EQ(calls, 1);
  // Only the examined prefix is the key.
  const std::string long_a = std::string(kMaxClassifiedUserAgentBytes, 'a') + "1";
  const std::string long_b = std::string(kMaxClassifiedUserAgentBytes, 'a') + "2";
  cache.Classify(long_a);
  cache.Classify(long_b);
  EXPECT_EQ(calls, 2);
}

TEST(UserAgentCacheTest, StaysWithinItsCapacityAndKeepsWhatIsAskedFor) {
  constexpr size_t kCapacity = 256;
  int chrome_calls = 0;
  UserAgentCache cache(kCapacity, [&](std::string_view ua) {
    if (ua == kChrome) ++chrome_calls;
    return ClassifyUserAgent(ua, *BotMatcher::Create({}).value());
  });
  for (int i = 0; i < 20 * static_cast<int>(kCapacity); ++i) {
    cache.Classify("Agent/" + std::to_string(i));
    // A user agent asked for at least once per generation is never forgotten.
    if (i % 8 == 0) cache.Classify(kChrome);
    EXPECT_LE(cache.size(), kCapacity);
  }
  EXPECT_EQ(chrome_calls, 1);
}

TEST(UserAgentCacheTest, ConcurrentCallersAgree) {
  UserAgentCache cache(128);
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        const std::string bot = "ExampleBot/" + std::to_string((i * 7 + t) % 300);
        if (!cache.Classify(bot).is_bot) ++wrong;
        if (cache.Classify(kChrome).is_bot) ++wrong;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_LE(cache.size(), 128u);
}

}  // namespace
}  // namespace footfall::core
