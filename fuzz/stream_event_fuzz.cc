// libFuzzer target: arbitrary bytes as a Lambda event of DynamoDB stream records
// (store::dynamodb::ParseStreamEvent). It must never throw or crash; a record it takes as a visit
// must be a checked one (a UUID id, a time, a site), and a poison record must say why.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "store/dynamodb/stream_records.h"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using footfall::store::dynamodb::StreamRecord;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto parsed = footfall::store::dynamodb::ParseStreamEvent(input);
  if (!parsed.ok()) {
    Check(!parsed.status().message().empty());
    return 0;
  }
  Check(!parsed->empty() && parsed->size() <= footfall::store::dynamodb::kMaxStreamRecords);
  for (const StreamRecord& record : *parsed) {
    if (record.kind == StreamRecord::Kind::kVisit) {
      Check(record.visit.visit_id.size() == 36 && !record.visit.site.empty());
      Check(record.visit.time_ms != 0 || record.visit.timestamp.starts_with("1970-01-01"));
    } else if (record.kind == StreamRecord::Kind::kPoison) {
      Check(!record.problem.empty());
    }
  }
  return 0;
}
