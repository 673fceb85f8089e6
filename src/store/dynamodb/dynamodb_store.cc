// DynamoDbStore: opening and closing, the counter (RecordVisit, ReadTotal, the counter shards),
// drops and stream records. Statistics, page views and export scans are in
// dynamodb_store_reads.cc, the daily salts in dynamodb_store_salts.cc; what they share is
// DynamoDbStore::Impl (dynamodb_store_impl.h).
#include "store/dynamodb/dynamodb_store.h"

#include <nlohmann/json.hpp>

#include <mutex>
#include <random>

#include "store/drift.h"
#include "store/dynamodb/aggregate_items.h"
#include "store/dynamodb/aggregate_writer.h"
#include "store/dynamodb/dynamodb_client.h"
#include "store/dynamodb/dynamodb_store_impl.h"
#include "store/dynamodb/dynamodb_table.h"
#include "store/dynamodb/inline_aggregator.h"
#include "store/dynamodb/visit_item.h"
#include "store/stats_rollup.h"

namespace footfall::store::dynamodb {
namespace {

constexpr const char* kTotalKey = "total";

}  // namespace

int DynamoDbStore::Impl::PickShard() {
  if (options.counter_shards == 1) return 0;
  std::lock_guard lock(rng_mu);
  return std::uniform_int_distribution<int>(0, options.counter_shards - 1)(rng);
}

std::string DynamoDbStore::Impl::ShardSuffix(int shard) const {
  return options.counter_shards == 1 ? "" : "#" + std::to_string(shard);
}

std::vector<std::string> DynamoDbStore::Impl::AllShardSuffixes() const {
  std::vector<std::string> suffixes = {""};
  if (options.counter_shards > 1) {
    for (int i = 0; i < options.counter_shards; ++i) suffixes.push_back(ShardSuffix(i));
  }
  return suffixes;
}

json DynamoDbStore::Impl::Key(const std::string& id) const {
  return {{"visit_id", S(id)}};
}

std::string DynamoDbStore::Impl::ShardKey(int shard) const {
  return options.counter_shards == 1 ? kTotalKey : std::string(kTotalKey) + "#" +
                                                       std::to_string(shard);
}

std::vector<std::string> DynamoDbStore::Impl::CounterKeys() const {
  std::vector<std::string> keys = {kTotalKey};
  if (options.counter_shards > 1) {
    for (int i = 0; i < options.counter_shards; ++i) keys.push_back(ShardKey(i));
  }
  return keys;
}

json DynamoDbStore::Impl::AddToCounter(const std::string& key, int64_t delta) const {
  return {{"TableName", options.table},
          {"Key", Key(key)},
          {"UpdateExpression", "ADD #count :delta"},
          {"ExpressionAttributeNames", {{"#count", "count"}}},
          {"ExpressionAttributeValues", {{":delta", N(delta)}}},
          {"ReturnValues", "UPDATED_NEW"}};
}

void DynamoDbStore::Impl::SumCounters(std::vector<std::string> keys, Deadline deadline,
                                      std::function<void(StatusOr<int64_t>)> done,
                                      int64_t sum_so_far,
                                      std::function<int64_t(const json&)> count_of) {
  if (!count_of) {
    count_of = [](const json& item) { return NumberAttribute(item, "count").value_or(0); };
  }
  if (keys.empty()) {
    done(sum_so_far);
    return;
  }
  json key_list = json::array();
  for (const auto& key : keys) key_list.push_back(Key(key));
  json body = {{"RequestItems",
                {{options.table, {{"Keys", key_list}, {"ConsistentRead", true}}}}}};
  client->Invoke(
      "BatchGetItem", std::move(body), true, deadline,
      [self = shared_from_this(), deadline, done = std::move(done), sum_so_far,
       count_of = std::move(count_of)](CallResult result) mutable {
        if (!result.status.ok()) return done(result.status);
        int64_t sum = sum_so_far;
        const char* table = self->options.table.c_str();
        const json& items = Member(Member(result.body, "Responses"), table);
        if (items.is_array()) {
          for (const json& item : items) sum += count_of(item);
        }
        std::vector<std::string> unprocessed;
        const json& left = Member(Member(Member(result.body, "UnprocessedKeys"), table), "Keys");
        if (left.is_array()) {
          for (const json& key : left) {
            if (std::optional<std::string> id = StringAttribute(key, "visit_id")) {
              unprocessed.push_back(*id);
            }
          }
        }
        self->SumCounters(std::move(unprocessed), deadline, std::move(done), sum,
                          std::move(count_of));
      });
}

StatusOr<std::unique_ptr<DynamoDbStore>> DynamoDbStore::Open(DynamoDbOptions options) {
  if (options.table.empty()) return InvalidArgumentError("dynamodb store needs a table name");
  if (options.region.empty()) {
    return InvalidArgumentError("dynamodb store needs a region (?region= or AWS_REGION)");
  }
  if (!options.credentials_provider &&
      (options.credentials.access_key_id.empty() || options.credentials.secret_access_key.empty())) {
    return InvalidArgumentError(
        "dynamodb store needs AWS credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a "
        "role: web identity, container credentials or instance metadata)");
  }
  if (options.counter_shards < 1 || options.counter_shards > 99) {
    return InvalidArgumentError("counter shards must be between 1 and 99");
  }
  if (options.max_attempts < 1) return InvalidArgumentError("max_attempts must be at least 1");
  if (options.endpoint.empty()) {
    options.endpoint = "https://dynamodb." + options.region + ".amazonaws.com";
  }
  ASSIGN_OR_RETURN(aws::HttpEndpoint endpoint, aws::ParseEndpointUrl(options.endpoint));
  DynamoDbClientOptions client_options;
  client_options.table = options.table;
  client_options.region = options.region;
  client_options.credentials = options.credentials;
  client_options.credentials_provider = options.credentials_provider;
  client_options.http.endpoint = endpoint;
  client_options.http.ca_file = options.ca_file;
  client_options.max_attempts = options.max_attempts;
  auto impl = std::make_shared<Impl>();
  impl->options = std::move(options);
  ASSIGN_OR_RETURN(impl->client, DynamoDbClient::Create(std::move(client_options)));
  impl->writer = std::make_shared<AggregateWriter>(impl->client);
  // A retry in the background is a call in flight: the destructor waits for it. (Through a
  // weak pointer: the aggregator belongs to the Impl.)
  impl->inline_aggregates = std::make_shared<InlineAggregator>(
      impl->writer, [weak = std::weak_ptr<Impl>(impl)]() -> std::function<void()> {
        std::shared_ptr<Impl> held = weak.lock();
        if (!held) return [] {};
        std::function<void(int)> release = held->Track<int>([](int) {});
        return [release] { release(0); };
      });
  return std::unique_ptr<DynamoDbStore>(new DynamoDbStore(std::move(impl)));
}

DynamoDbStore::DynamoDbStore(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

DynamoDbStore::~DynamoDbStore() {
  // Every call completes within its deadline (at most 10 s away); the HTTP client must outlive
  // the requests each one chains. Then stop its thread.
  impl_->WaitForCalls();
  impl_->client->Shutdown();
}

std::string DynamoDbStore::Describe() const {
  return "dynamodb://" + impl_->options.table + "?region=" + impl_->options.region +
         "&endpoint=" + impl_->options.endpoint +
         "&shards=" + std::to_string(impl_->options.counter_shards) +
         "&aggregates=" + (impl_->options.aggregates_from_stream ? "stream" : "inline");
}

DynamoDbUsage DynamoDbStore::Usage() const { return impl_->client->Usage(); }

void DynamoDbStore::ApplyStreamRecords(std::vector<StreamRecord> records, Deadline deadline,
                                       std::function<void(ApplyResult)> done) {
  done = impl_->Track(std::move(done));
  impl_->writer->Apply(std::move(records), deadline, std::move(done));
}

void DynamoDbStore::RecordVisit(Visit visit, Deadline deadline, Callback<RecordedVisit> done) {
  Impl& impl = *impl_;
  done = impl.Track(std::move(done));
  deadline = DynamoDbClient::Effective(deadline);
  // The three calls below complete on the HTTP thread, so this join needs no lock.
  struct Join {
    Callback<RecordedVisit> done;
    std::shared_ptr<const Visit> visit;
    int shard = 0;
    std::string shard_key;
    bool counted = true;  // a page view adds to the counter; a custom event does not
    int pending = 0;
    Status put;
    StatusOr<int64_t> shard_total = InternalError("not run");
    StatusOr<int64_t> other_shards = int64_t{0};
  };
  auto join = std::make_shared<Join>();
  join->done = std::move(done);
  auto finish = [self = impl_, join, deadline](int) {
    if (--join->pending > 0) return;
    if (join->put.ok() && join->shard_total.ok()) {
      // A failed read of the other shards only makes the displayed number low, never the count.
      const int64_t others = join->other_shards.ok() ? *join->other_shards : 0;
      const int64_t total = *join->shard_total + others;
      if (self->options.aggregates_from_stream) return join->done(RecordedVisit{total, 1});
      // Only a visit this call stored reaches the aggregates (a duplicate fails above), once.
      self->inline_aggregates->Add(*join->visit, deadline,
                                   [join, total] { join->done(RecordedVisit{total, 1}); });
      return;
    }
    if (!join->put.ok() && join->counted && join->shard_total.ok()) {
      // The visit was not stored but was counted: take the count back before answering (an ADD
      // is only retried when it certainly was not applied, so this cannot over-correct).
      self->client->Invoke("UpdateItem", self->AddToCounter(join->shard_key, -1), false, deadline,
                   [join](CallResult taken_back) {
                     if (!taken_back.status.ok()) {
                       ReportDrift(DriftKind::kTotalAhead, {join->visit->visit_id},
                                   taken_back.status);
                     }
                     join->done(join->put);
                   });
      return;
    }
    join->done(!join->put.ok() ? join->put : join->shard_total.status());
  };

  json item = VisitItem(visit, impl.options.aggregates_from_stream);
  json put = {{"TableName", impl.options.table},
              {"Item", std::move(item)},
              {"ConditionExpression", "attribute_not_exists(visit_id)"}};

  const int shard = impl.PickShard();
  const std::string shard_key = impl.ShardKey(shard);
  join->shard = shard;
  join->shard_key = shard_key;
  join->counted = visit.is_page_view();
  join->visit = std::make_shared<const Visit>(std::move(visit));
  std::vector<std::string> other_keys;
  for (const std::string& key : impl.CounterKeys()) {
    if (key != shard_key) other_keys.push_back(key);
  }
  join->pending = !join->counted ? 1 : other_keys.empty() ? 2 : 3;
  if (!join->counted) join->shard_total = int64_t{0};  // not counted: answered with 0

  // The visit item is safe to retry: its condition makes a repeat fail instead of duplicating,
  // and a repeat that fails that way after an unknown first attempt means the first one landed.
  impl.client->Invoke("PutItem", std::move(put), true, deadline, [join, finish](CallResult result) {
    if (result.status.code() == StatusCode::kAlreadyExists && result.earlier_attempt_unknown) {
      result.status = OkStatus();
    }
    join->put = result.status;
    finish(0);
  });
  if (!join->counted) return;
  // The ADD is not idempotent: retried only when it certainly was not applied.
  impl.client->Invoke("UpdateItem", impl.AddToCounter(shard_key, 1), false, deadline,
              [join, finish](CallResult result) {
                if (!result.status.ok()) {
                  join->shard_total = result.status;
                } else if (auto count = NumberAttribute(result.body["Attributes"], "count")) {
                  join->shard_total = *count;
                } else {
                  join->shard_total = UnavailableError("DynamoDB's UpdateItem answer has no count");
                }
                finish(0);
              });
  if (!other_keys.empty()) {
    impl.SumCounters(std::move(other_keys), deadline, [join, finish](StatusOr<int64_t> sum) {
      join->other_shards = std::move(sum);
      finish(0);
    });
  }
}

void DynamoDbStore::ReadTotal(Deadline deadline, Callback<int64_t> done) {
  Impl& impl = *impl_;
  done = impl.Track(std::move(done));
  deadline = DynamoDbClient::Effective(deadline);
  if (impl.options.counter_shards > 1) {
    impl.SumCounters(impl.CounterKeys(), deadline, std::move(done));
    return;
  }
  json body = {{"TableName", impl.options.table},
               {"Key", impl.Key(kTotalKey)},
               {"ConsistentRead", true},
               {"ProjectionExpression", "#count"},
               {"ExpressionAttributeNames", {{"#count", "count"}}}};
  impl.client->Invoke("GetItem", std::move(body), true, deadline,
              [done = std::move(done)](CallResult result) {
                if (!result.status.ok()) return done(result.status);
                const json& item = result.body["Item"];
                // No counter item yet (a fresh table without the seed's initial item) means 0.
                done(item.is_object() ? NumberAttribute(item, "count").value_or(0) : 0);
              });
}

void DynamoDbStore::RecordDrop(std::string site, int64_t time_ms, std::string reason,
                               Deadline deadline, StatusCallback done) {
  Impl& impl = *impl_;
  done = impl.Track(std::move(done));
  const AggregateItem item = DropItem(site, DayOfHour(HourOf(time_ms)), reason,
                                     impl.ShardSuffix(impl.PickShard()));
  json update = UpdateRequest(impl.options.table, item.id,
                              {{"agg_pk", S(item.partition)},
                               {"agg_sk", S(item.sort)},
                               {"type", S(item.type)},
                               {"day", N(item.day)},
                               {"name", S(item.name)}},
                              {{"count", N(1)}});
  // ADD is not idempotent: retried only when it certainly was not applied.
  impl.client->Invoke("UpdateItem", std::move(update), false,
                      DynamoDbClient::Effective(deadline),
                      [done = std::move(done)](CallResult result) { done(result.status); });
}

void DynamoDbStore::PruneExpired(int64_t, Deadline, Callback<int64_t> done) {
  done(int64_t{0});  // the table's TTL on expiration_time deletes expired visits
}

void DynamoDbStore::CheckReady(Deadline deadline, StatusCallback done) {
  ReadTotal(deadline, [done = std::move(done)](StatusOr<int64_t> total) { done(total.status()); });
}

Status DynamoDbStore::CreateTable(Deadline deadline) {
  return CreateFootfallTable(*impl_->client, deadline);
}

}  // namespace footfall::store::dynamodb
