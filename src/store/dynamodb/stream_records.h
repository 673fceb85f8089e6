// The records of the table's DynamoDB Stream — as AWS Lambda delivers them to a function
// ({"Records": [...]}) and as the Streams API's GetRecords returns them — sorted into visits to
// aggregate, records that are not visits, and poison. Stream records are untrusted input: every
// field is type-checked, sizes and counts are bounded, nothing throws. Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "store/dynamodb/dynamodb_client.h"
#include "store/store.h"

namespace footfall::store::dynamodb {

// Lambda's own limit for a synchronous invocation's payload; a larger stream event is refused.
inline constexpr size_t kMaxStreamEventBytes = 6 * 1024 * 1024;
// DynamoDB event source mappings deliver at most 10,000 records per batch.
inline constexpr size_t kMaxStreamRecords = 10000;

struct StreamRecord {
  enum class Kind {
    kVisit,      // a new visit item written for the stream (aggregates = "stream"): aggregate it
    kNotAVisit,  // a counter, salt, aggregate or marker item, a visit its writer aggregated
                 // itself, or a MODIFY/REMOVE: nothing to do
    kPoison,     // claims to be a visit but cannot be one: skip it, log it, count it
  };
  Kind kind = Kind::kPoison;
  std::string event_id;         // eventID ("" when missing)
  std::string sequence_number;  // dynamodb.SequenceNumber ("" when missing)
  Visit visit;                  // kVisit: checked as an import is (transfer::CheckedVisit)
  std::string problem;          // kPoison: why, naming fields but never their values
};

// Sorts one record (an element of "Records", or of GetRecords' "Records").
StreamRecord ClassifyStreamRecord(const json& record);

// Parses a Lambda event of DynamoDB stream records. Errors: kNotFound when `event` is not one
// (not JSON, larger than kMaxStreamEventBytes, no "Records" array, or its first record's
// eventSource is not "aws:dynamodb"), so the caller can report it as it reports other events;
// kInvalidArgument when it holds more than kMaxStreamRecords records.
StatusOr<std::vector<StreamRecord>> ParseStreamEvent(std::string_view event);

}  // namespace footfall::store::dynamodb
