#include "transfer/visit_records.h"

#include <gtest/gtest.h>

#include <sstream>

namespace footfall::transfer {
namespace {

store::Visit SampleVisit() {
  store::Visit visit;
  visit.visit_id = "019ab8f0-1234-7abc-8def-0123456789ab";
  visit.timestamp = "2026-11-25T10:00:00.123Z";
  visit.visitor = "0123456789abcdef0123456789abcdef";
  visit.user_agent = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0, \"quoted\"";
  visit.path = "/blog/été";
  visit.referrer = "news.example";
  visit.site = "me.example";
  visit.expiration_time = 1'803'376'800;
  visit.screen = "1440+";
  visit.source = "origin";
  visit.event = "Sign up, \"now\"";
  visit.props = {{"plan", "pro, yearly"}, {"tier", "x"}};
  return visit;
}

void ExpectSameRecord(const store::Visit& a, const store::Visit& b) {
  EXPECT_EQ(a.visit_id, b.visit_id);
  EXPECT_EQ(a.timestamp, b.timestamp);
  EXPECT_EQ(a.visitor, b.visitor);
  EXPECT_EQ(a.user_agent, b.user_agent);
  EXPECT_EQ(a.path, b.path);
  EXPECT_EQ(a.referrer, b.referrer);
  EXPECT_EQ(a.site, b.site);
  EXPECT_EQ(a.expiration_time, b.expiration_time);
  EXPECT_EQ(a.screen, b.screen);
  EXPECT_EQ(a.source, b.source);
  EXPECT_EQ(a.event, b.event);
  EXPECT_EQ(a.props, b.props);
}

TEST(VisitRecordsTest, JsonLineRoundTripsAndDerivesTheClasses) {
  const std::string line = VisitJsonLine(SampleVisit());
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  StatusOr<store::Visit> read = VisitFromJsonLine(line);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  ExpectSameRecord(*read, SampleVisit());
  EXPECT_EQ(read->time_ms, 1'795'600'800'123);
  EXPECT_EQ(read->browser, "Firefox");
  EXPECT_EQ(read->os, "Linux");
  EXPECT_EQ(read->device, "desktop");
}

TEST(VisitRecordsTest, CsvRowRoundTripsThroughTheReader) {
  std::istringstream in(std::string(kCsvHeader) + "\r\n" + VisitCsvRow(SampleVisit()) + "\n" +
                        VisitCsvRow(SampleVisit()));
  CsvReader reader(in);
  std::vector<std::string> fields;
  ASSERT_TRUE(*reader.Next(fields));
  EXPECT_EQ(fields.size(), 12u);
  EXPECT_EQ(fields[0], "visit_id");
  for (int64_t line : {2, 4}) {
    ASSERT_TRUE(*reader.Next(fields));
    EXPECT_EQ(reader.record_line(), line);
    StatusOr<store::Visit> read = VisitFromCsvFields(fields);
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    ExpectSameRecord(*read, SampleVisit());
  }
  EXPECT_FALSE(*reader.Next(fields));
}

TEST(VisitRecordsTest, OlderExportsStillImport) {
  EXPECT_TRUE(IsOurCsvHeader(kCsvHeader));
  EXPECT_TRUE(IsOurCsvHeader("visit_id,timestamp,visitor,user_agent,path,referrer,site,expiration_time"));
  EXPECT_TRUE(IsOurCsvHeader(
      "visit_id,timestamp,visitor,user_agent,path,referrer,site,expiration_time,screen,source"));
  EXPECT_FALSE(IsOurCsvHeader("visit_id,timestamp,visitor,user_agent,path,referrer,site"));
  EXPECT_FALSE(IsOurCsvHeader("visit_id,timestamp,visitor,user_agent,path,referrer,site,expiration_time,screen"));
  // A version 3 JSON line: no event, no props: a page view.
  std::string line = VisitJsonLine(SampleVisit());
  line = line.substr(0, line.find(",\"event\":")) + "}\n";
  StatusOr<store::Visit> read = VisitFromJsonLine(line);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_TRUE(read->is_page_view());
  EXPECT_TRUE(read->props.empty());
  std::vector<std::string> fields = {"019ab8f0-1234-7abc-8def-0123456789ab", "2026-11-25T10:00:00.123Z",
                                     "0123456789abcdef0123456789abcdef", "UA", "/", "", "me.example",
                                     "1803376800", "", ""};
  EXPECT_TRUE(VisitFromCsvFields(fields).ok());
}

TEST(VisitRecordsTest, CsvReaderHandlesQuotesNewlinesAndRejectsBrokenRecords) {
  std::istringstream in("a,\"b,\"\"c\"\"\nd\",e\nx");
  CsvReader reader(in);
  std::vector<std::string> fields;
  ASSERT_TRUE(*reader.Next(fields));
  EXPECT_EQ(fields, (std::vector<std::string>{"a", "b,\"c\"\nd", "e"}));
  ASSERT_TRUE(*reader.Next(fields));
  EXPECT_EQ(reader.record_line(), 3);
  EXPECT_EQ(fields, (std::vector<std::string>{"x"}));
  for (std::string bad : {std::string("\"open"), std::string("\"a\"b,c"),
                          std::string(kMaxRecordBytes + 1, 'a'), std::string(100, ',')}) {
    std::istringstream broken(bad);
    CsvReader broken_reader(broken);
    EXPECT_EQ(broken_reader.Next(fields).status().code(), StatusCode::kInvalidArgument) << bad.substr(0, 20);
  }
}

TEST(VisitRecordsTest, ImportRejectsRecordsServeWouldNotStore) {
  const auto with = [](auto change) {
    store::Visit visit = SampleVisit();
    change(visit);
    return VisitFromJsonLine(VisitJsonLine(visit)).status();
  };
  EXPECT_FALSE(with([](store::Visit& v) { v.visit_id = "not-a-uuid"; }).ok());
  EXPECT_FALSE(with([](store::Visit& v) { v.timestamp = "2026-11-25"; }).ok());
  EXPECT_FALSE(with([](store::Visit& v) { v.visitor = "203.0.113.9"; }).ok());
  EXPECT_FALSE(with([](store::Visit& v) { v.path = "relative"; }).ok());
  EXPECT_FALSE(with([](store::Visit& v) { v.referrer = "a\tb"; }).ok());
  EXPECT_FALSE(with([](store::Visit& v) { v.site = ""; }).ok());
  EXPECT_FALSE(with([](store::Visit& v) { v.screen = "1280"; }).ok());
  EXPECT_FALSE(with([](store::Visit& v) { v.source = "somewhere"; }).ok());
  EXPECT_FALSE(with([](store::Visit& v) { v.event = std::string(65, 'e'); }).ok());
  EXPECT_FALSE(with([](store::Visit& v) { v.props = {{"ip", "203.0.113.9"}}; }).ok());
  EXPECT_FALSE(with([](store::Visit& v) { v.props = {{"k", std::string(257, 'v')}}; }).ok());
  EXPECT_EQ(VisitFromJsonLine(VisitJsonLine(SampleVisit()).replace(
                                  VisitJsonLine(SampleVisit()).find("\"props\":"), 8, "\"props\":7,\"x\":"))
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_FALSE(VisitFromJsonLine("{\"visit_id\": 1}").ok());
  EXPECT_FALSE(VisitFromJsonLine("[]").ok());
  EXPECT_FALSE(VisitFromCsvFields({"a", "b"}).ok());
}

std::vector<std::string> GoatCounterRow(std::string path, std::string event, std::string bot,
                                        std::string date) {
  return {path, "Title", event, "", "Firefox 121", "Windows 10", "a1b2c3", bot,
          "https://news.example/item?id=1", "h", "390,844,3", "NL", "true", date};
}

TEST(VisitRecordsTest, GoatCounterRowsBecomeVisitsWithStableIds) {
  StatusOr<GoatCounterVisit> row =
      VisitFromGoatCounter(GoatCounterRow("/cv", "false", "0", "2026-11-25T10:00:00Z"), "me.example", 90, 0);
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  ASSERT_TRUE(row->visit.has_value());
  const store::Visit& visit = *row->visit;
  EXPECT_EQ(visit.path, "/cv");
  EXPECT_EQ(visit.timestamp, "2026-11-25T10:00:00.000Z");
  EXPECT_EQ(visit.browser, "Firefox");
  EXPECT_EQ(visit.os, "Windows");
  EXPECT_EQ(visit.device, "mobile");
  EXPECT_EQ(visit.screen, "<600");
  EXPECT_EQ(visit.referrer, "news.example");
  EXPECT_EQ(visit.site, "me.example");
  EXPECT_EQ(visit.expiration_time, 1'795'600'800 + 90 * 86'400);
  EXPECT_EQ(visit.visitor.size(), 32u);
  EXPECT_EQ(visit.visit_id[14], '7');
  // Same row, same id; the next identical row gets another one.
  EXPECT_EQ(VisitFromGoatCounter(GoatCounterRow("/cv", "false", "0", "2026-11-25T10:00:00Z"),
                                 "me.example", 90, 0)->visit->visit_id, visit.visit_id);
  EXPECT_NE(VisitFromGoatCounter(GoatCounterRow("/cv", "false", "0", "2026-11-25T10:00:00Z"),
                                 "me.example", 90, 1)->visit->visit_id, visit.visit_id);
  // Offsets and fractions.
  EXPECT_EQ(VisitFromGoatCounter(GoatCounterRow("/", "false", "0", "2026-11-25T12:00:00.5+02:00"),
                                 "me.example", 90, 0)->visit->timestamp, "2026-11-25T10:00:00.500Z");
}

TEST(VisitRecordsTest, GoatCounterEventsAndBotsAreSkippedAndBadRowsRejected) {
  EXPECT_EQ(VisitFromGoatCounter(GoatCounterRow("click", "true", "0", "2026-11-25T10:00:00Z"),
                                 "me.example", 90, 0)->skipped_because, "event");
  EXPECT_EQ(VisitFromGoatCounter(GoatCounterRow("/", "false", "150", "2026-11-25T10:00:00Z"),
                                 "me.example", 90, 0)->skipped_because, "bot");
  EXPECT_FALSE(VisitFromGoatCounter(GoatCounterRow("/", "false", "0", "yesterday"), "me.example", 90, 0).ok());
  EXPECT_FALSE(VisitFromGoatCounter(GoatCounterRow("no-slash", "false", "0", "2026-11-25T10:00:00Z"),
                                    "me.example", 90, 0).ok());
  EXPECT_FALSE(VisitFromGoatCounter({"/", "x"}, "me.example", 90, 0).ok());
}

// Found by import_fuzz (fuzz/corpus/import/goatcounter_referrer_not_utf8): a referrer host that
// is not UTF-8 was kept, so the visit's own export could not be imported again.
TEST(VisitRecordsTest, GoatCounterVisitsSurviveTheirOwnExport) {
  std::vector<std::string> row = GoatCounterRow("/cv", "false", "0", "2026-11-25T10:00:00Z");
  row[8] = "htt\x90\x8c\xc5\xcb/news.example/item?id=1";
  StatusOr<GoatCounterVisit> read = VisitFromGoatCounter(row, "me.example", 90, 0);
  ASSERT_TRUE(read.ok() && read->visit) << read.status().ToString();
  EXPECT_EQ(read->visit->referrer, "");
  StatusOr<store::Visit> again = VisitFromJsonLine(VisitJsonLine(*read->visit));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  ExpectSameRecord(*again, *read->visit);
}

}  // namespace
}  // namespace footfall::transfer
