// Reads a table's DynamoDB Stream through the Streams API (DescribeStream, GetShardIterator,
// GetRecords) for tests: what the Lambda event source mapping would hand the aggregates function.
// Blocking; not thread-safe (one reader per test).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "store/dynamodb/dynamodb_client.h"

namespace footfall::testing {

class DynamoDbStreamReader {
 public:
  // `endpoint` serves both APIs (moto does); credentials come from the environment.
  static StatusOr<std::unique_ptr<DynamoDbStreamReader>> Open(const std::string& table,
                                                              const std::string& endpoint);

  // Every record written to the table's latest stream since the previous call (the first call:
  // since the stream began), shard by shard, each shard in order. Records are GetRecords' JSON.
  StatusOr<std::vector<store::dynamodb::json>> ReadNew();

 private:
  DynamoDbStreamReader(std::string table, std::shared_ptr<store::dynamodb::DynamoDbClient> ddb,
                       std::shared_ptr<store::dynamodb::DynamoDbClient> streams)
      : table_(std::move(table)), ddb_(std::move(ddb)), streams_(std::move(streams)) {}
  StatusOr<store::dynamodb::json> Call(store::dynamodb::DynamoDbClient& client,
                                       const std::string& operation, store::dynamodb::json body);

  std::string table_;
  std::shared_ptr<store::dynamodb::DynamoDbClient> ddb_, streams_;
  std::map<std::string, std::string> last_sequence_;  // shard id → last sequence number read
};

// The records as the Lambda event a DynamoDB event source mapping delivers: {"Records": [...]}.
std::string LambdaStreamEvent(const std::vector<store::dynamodb::json>& records,
                              const std::string& stream_arn);

}  // namespace footfall::testing
