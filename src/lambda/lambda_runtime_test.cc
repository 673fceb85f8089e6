#include "lambda/lambda_runtime.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace footfall::lambda {
namespace {

TEST(InvocationLineTest, IsValidEmfWithoutClientData) {
  InvocationRecord record;
  record.timestamp_ms = 1'795'600'800'000;
  record.request_id = "r-1";
  record.method = "GET";
  record.route = "/count";
  record.status = 200;
  record.store_latency_ms = 4.5;
  record.visit_recorded = true;
  record.cold_start = true;
  const auto line = nlohmann::json::parse(FormatInvocationLine(record, "footfall-prod"));
  const auto& directive = line["_aws"]["CloudWatchMetrics"][0];
  EXPECT_EQ(line["_aws"]["Timestamp"], 1'795'600'800'000);
  EXPECT_EQ(directive["Namespace"], "Footfall");
  EXPECT_EQ(directive["Dimensions"][0][0], "FunctionName");
  // Every metric named in the directive is a top-level member, as the EMF spec requires.
  for (const auto& metric : directive["Metrics"]) {
    EXPECT_TRUE(line.contains(metric["Name"].get<std::string>())) << metric["Name"];
  }
  EXPECT_EQ(line["FunctionName"], "footfall-prod");
  EXPECT_EQ(line["VisitsRecorded"], 1);
  EXPECT_EQ(line["ColdStart"], 1);
  EXPECT_EQ(line["StoreLatency"], 4.5);
  EXPECT_FALSE(line.contains("Errors"));  // a count of 0 is not declared: no data point
  EXPECT_FALSE(line.contains("level"));
  EXPECT_FALSE(line.contains("error"));
  EXPECT_FALSE(line.contains("StoreDriftVisits"));  // declared only when there was drift
}

TEST(InvocationLineTest, DriftIsAMetricOfTheLineThatFollowsIt) {
  InvocationRecord record;
  record.route = "/count";
  record.status = 503;
  record.drift_visits = 2;
  const auto line = nlohmann::json::parse(FormatInvocationLine(record, "footfall-prod"));
  EXPECT_EQ(line["StoreDriftVisits"], 2);
  bool declared = false;
  for (const auto& metric : line["_aws"]["CloudWatchMetrics"][0]["Metrics"]) {
    declared = declared || metric["Name"] == "StoreDriftVisits";
  }
  EXPECT_TRUE(declared);
}

// A warm GET /count on DynamoDB, as the runtime records it.
InvocationRecord WarmVisit() {
  InvocationRecord record;
  record.timestamp_ms = 1'795'600'800'000;
  record.request_id = "8f5e2a4c-0b7d-4c1e-9a3f-6d2b1e0c9a87";
  record.method = "GET";
  record.route = "/count";
  record.status = 200;
  record.latency_ms = 8.236511999999999;
  record.store_latency_ms = 3.1234567;
  record.visit_recorded = true;
  record.store_usage = StoreUsage{2, 2.0};
  return record;
}

TEST(InvocationLineTest, AWarmVisitLineIsShort) {
  // What CloudWatch Logs bills per visit (docs/aws.md, "What it costs"): the line of a warm visit
  // declares two metrics and carries no field Lambda's own lines already have.
  const InvocationRecord record = WarmVisit();
  const std::string text = FormatInvocationLine(record, "footfall-prod");
  EXPECT_LE(text.size(), 430u) << text;  // 646 before 2026-12-06
  const auto line = nlohmann::json::parse(text);
  EXPECT_EQ(line["latency_ms"], 8.24);
  EXPECT_EQ(line["StoreLatency"], 3.12);
  EXPECT_EQ(line["_aws"]["CloudWatchMetrics"][0]["Metrics"].size(), 2u);
}

TEST(InvocationLineTest, ALineWithoutMetricsHasNoEmfDirective) {
  InvocationRecord record;
  record.request_id = "r-2";
  record.method = "OPTIONS";
  record.route = "/count";
  record.status = 204;
  const auto line = nlohmann::json::parse(FormatInvocationLine(record, "footfall-prod"));
  EXPECT_FALSE(line.contains("_aws"));
  EXPECT_EQ(line["status"], 204);
}

TEST(InvocationLineTest, AnErrorIsDeclaredAndLevelled) {
  InvocationRecord record;
  record.route = "/count";
  record.status = 503;
  record.error = true;
  record.error_detail = "unavailable: store";
  const auto line = nlohmann::json::parse(FormatInvocationLine(record, "footfall-prod"));
  EXPECT_EQ(line["Errors"], 1);
  EXPECT_EQ(line["level"], "error");
  EXPECT_EQ(line["error"], "unavailable: store");
}

TEST(InvocationLineTest, LogFieldsCarryTheMetricsWithoutTheDirective) {
  // For CloudWatch metric filters (the Terraform module's): the same members and dimension value,
  // without the _aws directive.
  InvocationRecord record = WarmVisit();
  record.cold_start = true;
  const std::string emf = FormatInvocationLine(record, "footfall-prod", MetricsFormat::kEmf);
  const std::string text = FormatInvocationLine(record, "footfall-prod", MetricsFormat::kLogFields);
  auto line = nlohmann::json::parse(text);
  EXPECT_FALSE(line.contains("_aws"));
  EXPECT_EQ(line["FunctionName"], "footfall-prod");
  EXPECT_EQ(line["VisitsRecorded"], 1);
  EXPECT_EQ(line["StoreLatency"], 3.12);
  EXPECT_EQ(line["ColdStart"], 1);
  auto with_directive = nlohmann::json::parse(emf);
  with_directive.erase("_aws");
  EXPECT_EQ(line, with_directive);
  EXPECT_LE(text.size(), 250u) << text;  // 426 with the directive
}

}  // namespace
}  // namespace footfall::lambda
