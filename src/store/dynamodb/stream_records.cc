#include "store/dynamodb/stream_records.h"

#include "store/dynamodb/visit_item.h"
#include "transfer/visit_records.h"

namespace footfall::store::dynamodb {

namespace {

std::string TextOf(const json& value) { return value.is_string() ? value.get<std::string>() : ""; }

}  // namespace

StreamRecord ClassifyStreamRecord(const json& record) {
  StreamRecord out;
  if (!record.is_object()) {
    out.problem = "a record that is not a JSON object";
    return out;
  }
  out.event_id = TextOf(Member(record, "eventID"));
  const json& change = Member(record, "dynamodb");
  out.sequence_number = TextOf(Member(change, "SequenceNumber"));
  const std::string event_name = TextOf(Member(record, "eventName"));
  if (event_name == "MODIFY" || event_name == "REMOVE") {
    out.kind = StreamRecord::Kind::kNotAVisit;  // visits are written once; TTL deletes them
    return out;
  }
  if (event_name != "INSERT") {
    out.problem = "eventName is not INSERT, MODIFY or REMOVE";
    return out;
  }
  const json& image = Member(change, "NewImage");
  if (!image.is_object()) {
    out.problem = "no dynamodb.NewImage (the stream's view type must include new images)";
    return out;
  }
  if (!IsVisitItem(image) || !IsForStream(image)) {
    // Not a visit, or one its writer aggregated itself.
    out.kind = StreamRecord::Kind::kNotAVisit;
    return out;
  }
  StatusOr<Visit> visit = VisitFromItem(image);
  if (visit.ok()) visit = transfer::CheckedVisit(*std::move(visit));
  if (!visit.ok()) {
    out.problem = "a visit item that is not valid: " + visit.status().message();
    return out;
  }
  out.kind = StreamRecord::Kind::kVisit;
  out.visit = *std::move(visit);
  return out;
}

StatusOr<std::vector<StreamRecord>> ParseStreamEvent(std::string_view event) {
  // Neither is read as a stream event: the caller reports the event as it reports any other.
  if (event.size() > kMaxStreamEventBytes) return NotFoundError("event larger than 6 MB");
  json parsed = json::parse(event, nullptr, false);
  if (parsed.is_discarded()) return NotFoundError("event is not JSON");
  const json& records = Member(parsed, "Records");
  if (!records.is_array() || records.empty() ||
      TextOf(Member(records.front(), "eventSource")) != "aws:dynamodb") {
    return NotFoundError("not a DynamoDB stream event");
  }
  if (records.size() > kMaxStreamRecords) {
    return InvalidArgumentError("stream event with more than 10000 records");
  }
  std::vector<StreamRecord> out;
  out.reserve(records.size());
  for (const json& record : records) out.push_back(ClassifyStreamRecord(record));
  return out;
}

}  // namespace footfall::store::dynamodb
