#include "store/dynamodb/stream_records.h"

#include <gtest/gtest.h>

namespace footfall::store::dynamodb {
namespace {

json VisitImage() {
  return {{"visit_id", S("019ab8f0-0000-7000-8000-000000000001")},
          {"timestamp", S("2026-11-25T10:15:00.000Z")},
          {"visitor", S("0123456789abcdef0123456789abcdef")},
          {"user_agent", S("Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0")},
          {"path", S("/a")},
          {"referrer", S("news.example")},
          {"site", S("a.example")},
          {"expiration_time", N(1803376800)},
          {"screen", S("1440+")},
          {"source", S("origin")},
          {"aggregates", S("stream")}};
}

json Record(const std::string& event_name, json image, const std::string& sequence = "111") {
  json change = {{"Keys", {{"visit_id", Member(image, "visit_id")}}},
                 {"SequenceNumber", sequence},
                 {"SizeBytes", 26},
                 {"StreamViewType", "NEW_IMAGE"}};
  if (!image.is_null()) change["NewImage"] = std::move(image);
  return {{"eventID", "c4ca4238a0b923820dcc509a6f75849b"},
          {"eventName", event_name},
          {"eventVersion", "1.1"},
          {"eventSource", "aws:dynamodb"},
          {"awsRegion", "us-east-1"},
          {"dynamodb", std::move(change)},
          {"eventSourceARN",
           "arn:aws:dynamodb:us-east-1:123456789012:table/visits/stream/2026-11-25T00:00:00.000"}};
}

std::vector<StreamRecord> Parse(const json& records) {
  StatusOr<std::vector<StreamRecord>> parsed = ParseStreamEvent(json{{"Records", records}}.dump());
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  return parsed.ok() ? *parsed : std::vector<StreamRecord>{};
}

TEST(StreamRecordsTest, AVisitInsertIsCheckedAndCompleted) {
  const std::vector<StreamRecord> records = Parse(json::array({Record("INSERT", VisitImage())}));
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].kind, StreamRecord::Kind::kVisit);
  EXPECT_EQ(records[0].sequence_number, "111");
  EXPECT_EQ(records[0].event_id, "c4ca4238a0b923820dcc509a6f75849b");
  const Visit& visit = records[0].visit;
  EXPECT_EQ(visit.path, "/a");
  EXPECT_EQ(visit.time_ms, 1'795'601'700'000);
  EXPECT_EQ(visit.browser, "Firefox");  // derived from the stored user agent
  EXPECT_EQ(visit.os, "Linux");
  EXPECT_EQ(visit.device, "desktop");
  EXPECT_EQ(visit.screen, "1440+");
}

TEST(StreamRecordsTest, ItemsThatAreNotVisitsAndChangesArePassedOver) {
  const std::vector<StreamRecord> records = Parse(json::array(
      {Record("INSERT", {{"visit_id", S("total")}, {"count", N(1)}}),
       Record("MODIFY", {{"visit_id", S("total")}, {"count", N(2)}}),
       Record("REMOVE", nullptr),  // TTL deleting an old visit
       Record("INSERT", {{"visit_id", S("mk#0011223344556677")}, {"visits", {{"B", "AA=="}}}}),
       // A visit whose writer aggregated it (a store without a stream consumer, or before one).
       Record("INSERT", [] {
         json image = VisitImage();
         image.erase("aggregates");
         return image;
       }())}));
  ASSERT_EQ(records.size(), 5u);
  for (const StreamRecord& record : records) {
    EXPECT_EQ(record.kind, StreamRecord::Kind::kNotAVisit) << record.problem;
  }
}

TEST(StreamRecordsTest, PoisonIsNamedWithoutQuotingTheRecord) {
  json bad_visitor = VisitImage();
  bad_visitor["visitor"] = S("not hex: 203.0.113.9");
  json number_timestamp = VisitImage();
  number_timestamp["timestamp"] = N(5);
  json no_site = VisitImage();
  no_site.erase("site");
  const std::vector<StreamRecord> records =
      Parse(json::array({Record("INSERT", bad_visitor), 42, Record("INSERT", nullptr),
                         Record("INSERT", number_timestamp), Record("INSERT", no_site),
                         Record("UPSERT", VisitImage()), Record("INSERT", json::array())}));
  ASSERT_EQ(records.size(), 7u);
  for (const StreamRecord& record : records) {
    EXPECT_EQ(record.kind, StreamRecord::Kind::kPoison);
    EXPECT_FALSE(record.problem.empty());
    EXPECT_EQ(record.problem.find("203.0.113.9"), std::string::npos) << record.problem;
  }
  EXPECT_NE(records[0].problem.find("visitor"), std::string::npos) << records[0].problem;
  EXPECT_NE(records[2].problem.find("NewImage"), std::string::npos) << records[2].problem;
  EXPECT_NE(records[4].problem.find("site"), std::string::npos) << records[4].problem;
}

TEST(StreamRecordsTest, OtherEventsAreNotFoundAndBrokenOnesInvalid) {
  EXPECT_EQ(ParseStreamEvent(R"({"httpMethod":"GET","path":"/count"})").status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(ParseStreamEvent(R"({"Records":[]})").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ParseStreamEvent(R"({"Records":{}})").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ParseStreamEvent(R"({"Records":[{"eventSource":"aws:sqs"}]})").status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(ParseStreamEvent(R"({"Records":[{"eventSource":5}]})").status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(ParseStreamEvent("[1,2").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ParseStreamEvent(std::string(kMaxStreamEventBytes + 1, ' ')).status().code(),
            StatusCode::kNotFound);
  json many = json::array();
  for (size_t i = 0; i <= kMaxStreamRecords; ++i) many.push_back(Record("MODIFY", nullptr));
  EXPECT_EQ(ParseStreamEvent(json{{"Records", many}}.dump()).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace footfall::store::dynamodb
