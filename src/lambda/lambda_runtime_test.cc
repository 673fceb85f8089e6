#include "lambda/lambda_runtime.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace footfall::lambda {
namespace {

TEST(InvocationLineTest, IsValidEmfWithoutClientData) {
  InvocationRecord record;
  record.timestamp_ms = 1'795'600'800'000;
  record.request_id = "r-1";
  record.trace_id = "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700";
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
  EXPECT_EQ(line["Errors"], 0);
  EXPECT_EQ(line["trace_id"], "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700");
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

}  // namespace
}  // namespace footfall::lambda
