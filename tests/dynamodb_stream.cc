#include "tests/dynamodb_stream.h"

#include <cstdlib>
#include <future>

namespace footfall::testing {

using store::dynamodb::CallResult;
using store::dynamodb::DynamoDbClient;
using store::dynamodb::DynamoDbClientOptions;
using store::dynamodb::json;
using store::dynamodb::Member;

namespace {

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? "" : value;
}

std::string Text(const json& value) { return value.is_string() ? value.get<std::string>() : ""; }

}  // namespace

StatusOr<std::unique_ptr<DynamoDbStreamReader>> DynamoDbStreamReader::Open(
    const std::string& table, const std::string& endpoint) {
  DynamoDbClientOptions options;
  options.table = table;
  options.region = Env("AWS_REGION").empty() ? "us-east-1" : Env("AWS_REGION");
  options.credentials.access_key_id = Env("AWS_ACCESS_KEY_ID");
  options.credentials.secret_access_key = Env("AWS_SECRET_ACCESS_KEY");
  options.credentials.session_token = Env("AWS_SESSION_TOKEN");
  ASSIGN_OR_RETURN(options.http.endpoint, aws::ParseEndpointUrl(endpoint));
  ASSIGN_OR_RETURN(std::shared_ptr<DynamoDbClient> ddb, DynamoDbClient::Create(options));
  options.target_prefix = "DynamoDBStreams_20120810.";
  ASSIGN_OR_RETURN(std::shared_ptr<DynamoDbClient> streams, DynamoDbClient::Create(options));
  return std::unique_ptr<DynamoDbStreamReader>(
      new DynamoDbStreamReader(table, std::move(ddb), std::move(streams)));
}

StatusOr<json> DynamoDbStreamReader::Call(DynamoDbClient& client, const std::string& operation,
                                          json body) {
  std::promise<CallResult> promise;
  client.Invoke(operation, std::move(body), true, DynamoDbClient::Effective(store::kNoDeadline),
                [&promise](CallResult result) { promise.set_value(std::move(result)); });
  CallResult result = promise.get_future().get();
  if (!result.status.ok()) return result.status;
  return std::move(result.body);
}

StatusOr<std::vector<json>> DynamoDbStreamReader::ReadNew() {
  ASSIGN_OR_RETURN(json table, Call(*ddb_, "DescribeTable", {{"TableName", table_}}));
  const std::string arn = Text(Member(Member(table, "Table"), "LatestStreamArn"));
  if (arn.empty()) return FailedPreconditionError("table " + table_ + " has no stream");
  ASSIGN_OR_RETURN(json stream, Call(*streams_, "DescribeStream", {{"StreamArn", arn}}));
  std::vector<json> records;
  const json& shards = Member(Member(stream, "StreamDescription"), "Shards");
  if (!shards.is_array()) return InternalError("DescribeStream returned no shards");
  for (const json& shard : shards) {
    const std::string shard_id = Text(Member(shard, "ShardId"));
    json request = {{"StreamArn", arn}, {"ShardId", shard_id}};
    auto last = last_sequence_.find(shard_id);
    if (last == last_sequence_.end()) {
      request["ShardIteratorType"] = "TRIM_HORIZON";
    } else {
      request["ShardIteratorType"] = "AFTER_SEQUENCE_NUMBER";
      request["SequenceNumber"] = last->second;
    }
    ASSIGN_OR_RETURN(json iterator, Call(*streams_, "GetShardIterator", request));
    std::string position = Text(Member(iterator, "ShardIterator"));
    while (!position.empty()) {
      ASSIGN_OR_RETURN(json page, Call(*streams_, "GetRecords", {{"ShardIterator", position}}));
      const json& got = Member(page, "Records");
      if (!got.is_array() || got.empty()) break;  // the open end of the shard
      for (const json& record : got) {
        last_sequence_[shard_id] = Text(Member(Member(record, "dynamodb"), "SequenceNumber"));
        records.push_back(record);
      }
      position = Text(Member(page, "NextShardIterator"));
    }
  }
  return records;
}

std::string LambdaStreamEvent(const std::vector<json>& records, const std::string& stream_arn) {
  json event_records = json::array();
  for (json record : records) {
    // The Lambda event carries these as GetRecords does, plus the stream's ARN.
    record["eventSourceARN"] = stream_arn;
    event_records.push_back(std::move(record));
  }
  return json{{"Records", std::move(event_records)}}.dump();
}

}  // namespace footfall::testing
