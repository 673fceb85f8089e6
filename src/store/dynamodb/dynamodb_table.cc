#include "store/dynamodb/dynamodb_table.h"

#include <future>
#include <memory>
#include <thread>

#include "store/dynamodb/aggregate_items.h"

namespace footfall::store::dynamodb {

using Clock = std::chrono::steady_clock;

Status CreateFootfallTable(DynamoDbClient& client, Deadline deadline) {
  deadline = std::min(deadline, Clock::now() + std::chrono::seconds(60));
  auto call = [&](const char* operation, json body) {
    auto promise = std::make_shared<std::promise<CallResult>>();
    auto future = promise->get_future();
    client.Invoke(operation, std::move(body), true, deadline,
                  [promise](CallResult result) { promise->set_value(std::move(result)); });
    return future.get();
  };
  const std::string& table = client.table();
  const json key_attributes = {{{"AttributeName", "visit_id"}, {"AttributeType", "S"}},
                               {{"AttributeName", "agg_pk"}, {"AttributeType", "S"}},
                               {{"AttributeName", "agg_sk"}, {"AttributeType", "S"}}};
  // Sparse: only aggregate items carry agg_pk/agg_sk, so visits are not copied into it.
  const json index = {{"IndexName", kAggregatesIndex},
                      {"KeySchema",
                       {{{"AttributeName", "agg_pk"}, {"KeyType", "HASH"}},
                        {{"AttributeName", "agg_sk"}, {"KeyType", "RANGE"}}}},
                      {"Projection", {{"ProjectionType", "ALL"}}}};
  CallResult created = call(
      "CreateTable",
      {{"TableName", table},
       {"AttributeDefinitions", key_attributes},
       {"KeySchema", {{{"AttributeName", "visit_id"}, {"KeyType", "HASH"}}}},
       {"GlobalSecondaryIndexes", json::array({index})},
       {"BillingMode", "PAY_PER_REQUEST"},
       // The stream the aggregates Lambda reads (deploy/terraform sets the same).
       {"StreamSpecification", {{"StreamEnabled", true}, {"StreamViewType", "NEW_IMAGE"}}}});
  const bool exists = created.error_type == "ResourceInUseException";
  if (!created.status.ok() && !exists) return created.status;
  bool index_requested = !exists;
  bool stream_enabled = false;
  while (true) {
    CallResult described = call("DescribeTable", {{"TableName", table}});
    if (!described.status.ok()) return described.status;
    const json& description = Member(described.body, "Table");
    stream_enabled = Member(Member(description, "StreamSpecification"), "StreamEnabled") == true;
    std::string index_status;
    const json& indexes = Member(description, "GlobalSecondaryIndexes");
    if (indexes.is_array()) {
      for (const json& existing : indexes) {
        if (Member(existing, "IndexName") == kAggregatesIndex) {
          const json& status = Member(existing, "IndexStatus");
          index_status = status.is_string() ? status.get<std::string>() : "";
        }
      }
    }
    const bool table_active = Member(description, "TableStatus") == "ACTIVE";
    if (table_active && index_status == "ACTIVE") break;
    if (table_active && index_status.empty() && !index_requested) {
      // A table made before aggregates: add the index (an online operation).
      CallResult updated = call("UpdateTable",
                                {{"TableName", table},
                                 {"AttributeDefinitions", key_attributes},
                                 {"GlobalSecondaryIndexUpdates", {{{"Create", index}}}}});
      if (!updated.status.ok()) return updated.status;
      index_requested = true;
      continue;
    }
    if (Clock::now() > deadline) return DeadlineExceededError("table did not become active");
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  if (!stream_enabled) {
    // A table made before the stream fed the aggregates (or by the seed's Terraform).
    CallResult streamed = call(
        "UpdateTable",
        {{"TableName", table},
         {"StreamSpecification", {{"StreamEnabled", true}, {"StreamViewType", "NEW_IMAGE"}}}});
    if (!streamed.status.ok()) return streamed.status;
  }
  // Re-enabling TTL that is already on is refused (a ValidationException): ask first.
  CallResult ttl_now = call("DescribeTimeToLive", {{"TableName", table}});
  if (!ttl_now.status.ok()) return ttl_now.status;
  const json& ttl_status =
      Member(Member(ttl_now.body, "TimeToLiveDescription"), "TimeToLiveStatus");
  if (ttl_status == "ENABLED" || ttl_status == "ENABLING") return OkStatus();
  return call("UpdateTimeToLive",
              {{"TableName", table},
               {"TimeToLiveSpecification",
                {{"Enabled", true}, {"AttributeName", "expiration_time"}}}})
      .status;
}

}  // namespace footfall::store::dynamodb
