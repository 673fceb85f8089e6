// `make bench` part: what classifying a User-Agent costs since the crawler-user-agents list
// (issue 22), on the vendored corpora (third_party/: the list's ~2,100 example bots and ~950 real
// browsers). Prints, in ns per user agent (median of several rounds):
//   - the reference: footfall's own token scan alone (ClassifyUserAgent with an empty matcher),
//     which was the whole classification before the list, on every request;
//   - a cache hit (UserAgentCache::Classify of a user agent seen before): the request path for a
//     returning user agent, and its difference from the reference (target: at most +500 ns);
//   - a miss with a warm matcher (the DFA states for similar text already built);
//   - a miss with a cold matcher (a fresh one: every DFA state built on the way);
//   - building the matcher (RE2::Set of every pattern), paid once per process at its first miss.
//
// Usage: user_agent_bench CRAWLER_LIST_JSON BROWSERS_TXT
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/crawler_list.h"
#include "core/user_agent.h"
#include "core/user_agent_cache.h"

using namespace footfall;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kRounds = 7;

std::vector<std::string> ListInstances(const char* path) {
  std::ifstream in(path);
  const nlohmann::json json = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  std::vector<std::string> out;
  if (!json.is_array()) return out;
  for (const nlohmann::json& entry : json) {
    if (!entry.is_object() || !entry.contains("instances") || !entry["instances"].is_array())
      continue;
    for (const nlohmann::json& instance : entry["instances"]) {
      if (instance.is_string()) out.push_back(instance.get<std::string>());
    }
  }
  return out;
}

std::vector<std::string> Lines(const char* path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

// ns per call of `classify` over `agents`, median of kRounds passes.
template <typename F>
double NsPerAgent(const std::vector<std::string>& agents, F classify) {
  std::vector<double> rounds;
  size_t sink = 0;
  for (int r = 0; r < kRounds; ++r) {
    const auto start = Clock::now();
    for (const std::string& agent : agents) sink += classify(agent).bot_kind.size();
    rounds.push_back(std::chrono::duration<double, std::nano>(Clock::now() - start).count() /
                     static_cast<double>(agents.size()));
  }
  if (sink == 1) std::printf(" ");  // keeps the work observable
  return Median(rounds);
}

std::unique_ptr<core::BotMatcher> BuildMatcher() {
  std::vector<core::BotPattern> patterns(core::CrawlerListPatterns().begin(),
                                         core::CrawlerListPatterns().end());
  patterns.insert(patterns.end(), core::HttpLibraryPatterns().begin(),
                  core::HttpLibraryPatterns().end());
  StatusOr<std::unique_ptr<core::BotMatcher>> matcher = core::BotMatcher::Create(patterns);
  if (!matcher.ok()) {
    std::fprintf(stderr, "user_agent_bench: %s\n", matcher.status().ToString().c_str());
    std::exit(1);
  }
  return *std::move(matcher);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: user_agent_bench CRAWLER_LIST_JSON BROWSERS_TXT\n");
    return 2;
  }
  const std::vector<std::string> bots = ListInstances(argv[1]);
  const std::vector<std::string> browsers = Lines(argv[2]);
  if (bots.empty() || browsers.empty()) {
    std::fprintf(stderr, "user_agent_bench: no user agents in %s or %s\n", argv[1], argv[2]);
    return 1;
  }
  // Real traffic interleaves them.
  std::vector<std::string> mixed;
  for (size_t i = 0; i < std::max(bots.size(), browsers.size()); ++i) {
    if (i < browsers.size()) mixed.push_back(browsers[i]);
    if (i < bots.size()) mixed.push_back(bots[i]);
  }

  std::vector<double> builds;
  for (int r = 0; r < 5; ++r) {
    const auto start = Clock::now();
    BuildMatcher();
    builds.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }

  // Cold: each pass gets a fresh matcher, so every DFA state is built on the way.
  std::vector<double> cold_rounds;
  for (int r = 0; r < 3; ++r) {
    const std::unique_ptr<core::BotMatcher> fresh = BuildMatcher();
    const auto start = Clock::now();
    for (const std::string& agent : mixed) core::ClassifyUserAgent(agent, *fresh);
    cold_rounds.push_back(std::chrono::duration<double, std::nano>(Clock::now() - start).count() /
                          static_cast<double>(mixed.size()));
  }

  const std::unique_ptr<core::BotMatcher> none = *core::BotMatcher::Create({});
  const std::unique_ptr<core::BotMatcher> warm = BuildMatcher();
  for (const std::string& agent : mixed) core::ClassifyUserAgent(agent, *warm);  // warms the DFA

  const double reference = NsPerAgent(
      browsers, [&](const std::string& agent) { return core::ClassifyUserAgent(agent, *none); });
  const double warm_browsers = NsPerAgent(
      browsers, [&](const std::string& agent) { return core::ClassifyUserAgent(agent, *warm); });
  const double warm_bots = NsPerAgent(
      bots, [&](const std::string& agent) { return core::ClassifyUserAgent(agent, *warm); });
  // The request path: every browser of the corpus already seen once.
  core::UserAgentCache cache;
  for (const std::string& agent : browsers) cache.Classify(agent);
  const double hit =
      NsPerAgent(browsers, [&](const std::string& agent) { return cache.Classify(agent); });

  std::printf(
      "user agent classification, ns per user agent (median of %d passes over %zu browsers, "
      "%zu list examples):\n",
      kRounds, browsers.size(), bots.size());
  std::printf(
      "  reference, footfall's token scan alone (the request path before the list): %.0f ns\n",
      reference);
  std::printf(
      "  cache hit (the request path for a user agent seen before): %.0f ns  "
      "(%+.0f ns against the reference, target <= +500; ratio %.2f)\n",
      hit, hit - reference, hit / reference);
  std::printf("  miss, warm matcher: browsers %.0f ns, list examples %.0f ns\n", warm_browsers,
              warm_bots);
  std::printf(
      "  miss, cold matcher (fresh DFA, browsers and examples interleaved): %.0f ns  "
      "(median of 3 passes)\n",
      Median(cold_rounds));
  std::printf(
      "  building the matcher (%zu patterns, once per process, on a thread at start-up): "
      "%.1f ms\n",
      core::CrawlerListPatterns().size() + core::HttpLibraryPatterns().size(), Median(builds));
  return 0;
}
