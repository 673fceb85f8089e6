// Runs `promtool check metrics` (Debian package prometheus) on a rendered registry holding every
// metric type, label values that need escaping, invalid UTF-8 and an overflow series. A missing
// promtool is a failure, not a skip: scripts/install-deps.sh installs it.
#include "metrics/registry.h"

#include <gtest/gtest.h>
#include <stdio.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace footfall::metrics {
namespace {

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

CommandResult RunShell(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) result.output.append(buffer, n);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// promtool's verdict on `exposition`, given on its standard input.
CommandResult CheckMetrics(const std::string& exposition) {
  const std::filesystem::path path = std::filesystem::path(::testing::TempDir()) /
                                     ("metrics_" + std::to_string(getpid()) + ".txt");
  std::ofstream(path, std::ios::binary) << exposition;
  CommandResult result = RunShell("promtool check metrics < '" + path.string() + "'");
  std::filesystem::remove(path);
  return result;
}

class PromtoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(RunShell("command -v promtool").exit_code, 0)
        << "promtool not found: install the Debian package prometheus (scripts/install-deps.sh)";
  }
};

TEST_F(PromtoolTest, AcceptsARegistryWithEveryMetricType) {
  Registry registry(RegistryOptions{.max_series_per_family = 3});
  Family<Counter>& requests = *registry.AddCounter("footfall_http_requests_total",
                                                   "HTTP requests answered, by route and status.",
                                                   {"route", "status"})
                                   .value();
  requests.WithLabels({"route", "/count"}, {"status", "200"}).Increment(41);
  requests.WithLabels({"route", "/a \"quoted\" \\ path\nwith newline"}, {"status", "404"})
      .Increment();
  requests.WithLabels({"route", "caf\xC3\xA9 \xFF"}, {"status", "400"}).Increment();
  requests.WithLabels({"route", "/one-too-many"}, {"status", "200"}).Increment();  // overflow

  Family<Histogram>& latency =
      *registry.AddHistogram("footfall_http_request_duration_seconds",
                             "Time from request read to response written.\nIn seconds \\ s.",
                             LatencyBuckets(), {"route"})
           .value();
  for (double seconds : {0.0001, 0.003, 0.2, 42.0}) {
    latency.WithLabels({"route", "/count"}).Observe(seconds);
  }
  for (const char* route : {"/a", "/b", "/c", "/d"}) {  // the fourth overflows
    latency.WithLabels({"route", route}).Observe(0.01);
  }
  Family<Histogram>& batch = *registry.AddHistogram("footfall_group_commit_batch_size",
                                                    "Visits per commit.",
                                                    ExponentialBuckets(1, 2, 10))
                                  .value();
  batch.WithLabels().Observe(17);

  registry.AddGauge("footfall_store_ready", "1 when the store answers, else 0.")
      .value()
      ->WithLabels()
      .Set(1);
  registry.AddGauge("footfall_build_info", "Always 1; the version is a label.", {"version"})
      .value()
      ->WithLabels({"version", "0.1.0"})
      .Set(1);
  registry.AddGauge("footfall_http_in_flight_requests", "Requests being answered.")
      .value()
      ->WithLabels()
      .Add(-0.5);
  ASSERT_TRUE(registry.AddGaugeCallback("footfall_rate_limiter_buckets",
                                        "Token buckets held by the rate limiter.",
                                        [] { return 12.0; })
                  .ok());

  const std::string exposition = registry.Render();
  ASSERT_NE(exposition.find("overflow=\"true\""), std::string::npos) << exposition;
  const CommandResult result = CheckMetrics(exposition);
  EXPECT_EQ(result.exit_code, 0) << result.output << "\n--- input:\n" << exposition;
  EXPECT_EQ(result.output, "") << "\n--- input:\n" << exposition;
}

// The check above would pass vacuously if promtool accepted anything: it does not.
TEST_F(PromtoolTest, RejectsBrokenExposition) {
  EXPECT_NE(CheckMetrics("# TYPE requests counter\nrequests{a=\"\xFF\"} 1\n").exit_code, 0);
  EXPECT_NE(CheckMetrics("# HELP x_total X.\n# TYPE x_total counter\nx_total{a=\"b} 1\n")
                .exit_code,
            0);
}

}  // namespace
}  // namespace footfall::metrics
