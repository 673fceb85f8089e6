#include "store/dynamodb/dynamodb_store.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <random>

#include "base/base64.h"
#include "base/utc_time.h"
#include "store/drift.h"
#include "store/dynamodb/aggregate_items.h"
#include "store/dynamodb/aggregate_writer.h"
#include "store/dynamodb/dynamodb_client.h"
#include "store/dynamodb/dynamodb_table.h"
#include "store/dynamodb/inline_aggregator.h"
#include "store/dynamodb/visit_item.h"
#include "store/stats_rollup.h"

namespace footfall::store::dynamodb {

using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kTotalKey = "total";
// How many days before the first kept one maintenance deletes salts of: it runs hourly, so a
// week covers a schedule that was off for days; TTL deletes anything older.
constexpr int64_t kSaltDaysSwept = 7;

// Export cursors are the visit_id to continue after, tagged so that a stray string is refused.
constexpr std::string_view kCursorTag = "scan:";

std::string EncodeCursor(const std::string& visit_id) {
  const std::string text = std::string(kCursorTag) + visit_id;
  return Base64Encode(text);
}

std::optional<std::string> DecodeCursor(const std::string& cursor) {
  std::optional<std::string> text = Base64Decode(cursor);
  if (!text || !text->starts_with(kCursorTag) || text->size() == kCursorTag.size()) {
    return std::nullopt;
  }
  return text->substr(kCursorTag.size());
}

}  // namespace

struct DynamoDbStore::Impl : std::enable_shared_from_this<Impl> {
  DynamoDbOptions options;
  std::shared_ptr<DynamoDbClient> client;
  std::mutex rng_mu;
  std::mt19937_64 rng{std::random_device{}()};
  // Public calls not yet completed: the destructor waits for them, since one call may chain
  // several requests (a visit's aggregates follow its write) and the HTTP client must outlive
  // the chain.
  std::mutex calls_mu;
  std::condition_variable calls_done;
  int calls_in_flight = 0;

  template <typename T>
  std::function<void(T)> Track(std::function<void(T)> done) {
    {
      std::lock_guard lock(calls_mu);
      ++calls_in_flight;
    }
    return [self = shared_from_this(), done = std::move(done)](T result) {
      done(std::move(result));
      std::lock_guard lock(self->calls_mu);
      if (--self->calls_in_flight == 0) self->calls_done.notify_all();
    };
  }

  void WaitForCalls() {
    std::unique_lock lock(calls_mu);
    calls_done.wait(lock, [this] { return calls_in_flight == 0; });
  }

  int PickShard() {
    if (options.counter_shards == 1) return 0;
    std::lock_guard lock(rng_mu);
    return std::uniform_int_distribution<int>(0, options.counter_shards - 1)(rng);
  }

  // Every counter item is sharded as the total is: no suffix with one shard, "#<i>" with more.
  std::string ShardSuffix(int shard) const {
    return options.counter_shards == 1 ? "" : "#" + std::to_string(shard);
  }

  // Every suffix a sharded counter is summed over (the unsuffixed one is kept, like "total", so
  // that raising the shard count keeps the counts written before).
  std::vector<std::string> AllShardSuffixes() const {
    std::vector<std::string> suffixes = {""};
    if (options.counter_shards > 1) {
      for (int i = 0; i < options.counter_shards; ++i) suffixes.push_back(ShardSuffix(i));
    }
    return suffixes;
  }

  json Key(const std::string& id) const {
    return {{"visit_id", S(id)}};
  }

  std::string ShardKey(int shard) const {
    return options.counter_shards == 1 ? kTotalKey : std::string(kTotalKey) + "#" +
                                                         std::to_string(shard);
  }

  // Every counter item a total is summed over.
  std::vector<std::string> CounterKeys() const {
    std::vector<std::string> keys = {kTotalKey};
    if (options.counter_shards > 1) {
      for (int i = 0; i < options.counter_shards; ++i) keys.push_back(ShardKey(i));
    }
    return keys;
  }

  json AddToCounter(const std::string& key, int64_t delta) const {
    return {{"TableName", options.table},
            {"Key", Key(key)},
            {"UpdateExpression", "ADD #count :delta"},
            {"ExpressionAttributeNames", {{"#count", "count"}}},
            {"ExpressionAttributeValues", {{":delta", N(delta)}}},
            {"ReturnValues", "UPDATED_NEW"}};
  }

  // Sums `count_of(item)` over the items of `keys` (missing items count 0) with consistent
  // reads, following UnprocessedKeys.
  void SumCounters(std::vector<std::string> keys, Deadline deadline,
                   std::function<void(StatusOr<int64_t>)> done, int64_t sum_so_far = 0,
                   std::function<int64_t(const json&)> count_of = nullptr) {
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

  std::shared_ptr<AggregateWriter> writer;
  std::shared_ptr<InlineAggregator> inline_aggregates;  // without a stream consumer

  // Deletes the salt items of `days` one after the other (missing ones are fine), then calls
  // `then` with how many existed, or with the first error (the days after it are not tried).
  void DeleteSalts(std::vector<int64_t> days, Deadline deadline,
                   std::function<void(StatusOr<int64_t>)> then, int64_t deleted = 0) {
    if (days.empty()) return then(deleted);
    const int64_t day = days.back();
    days.pop_back();
    json body = {{"TableName", options.table},
                 {"Key", Key("salt#" + std::to_string(day))},
                 {"ReturnValues", "ALL_OLD"}};
    client->Invoke("DeleteItem", std::move(body), true, deadline,
           [self = shared_from_this(), days = std::move(days), deadline, then = std::move(then),
            deleted](CallResult result) mutable {
             if (!result.status.ok()) return then(result.status);
             if (result.body.contains("Attributes")) ++deleted;
             self->DeleteSalts(std::move(days), deadline, std::move(then), deleted);
           });
  }

  // Runs `request` (a Query) and every page after it, then calls done with all items.
  void QueryAll(json request, Deadline deadline,
                std::function<void(StatusOr<std::vector<json>>)> done,
                std::vector<json> so_far = {}) {
    client->Invoke("Query", request, true, deadline,
           [self = shared_from_this(), request, deadline, done = std::move(done),
            so_far = std::move(so_far)](CallResult result) mutable {
             if (!result.status.ok()) return done(result.status);
             json& items = result.body["Items"];
             if (items.is_array()) {
               for (json& item : items) so_far.push_back(std::move(item));
             }
             const json& last = result.body["LastEvaluatedKey"];
             if (!last.is_object()) return done(std::move(so_far));
             request["ExclusiveStartKey"] = last;
             self->QueryAll(std::move(request), deadline, std::move(done), std::move(so_far));
           });
  }

  // One ScanVisits call in progress: pages are read until the page is full or the table ends.
  struct VisitScan {
    json request;
    int limit = 0;
    Clock::time_point return_early_after;
    VisitPage page;
    Callback<VisitPage> done;
  };

  void ScanPage(std::shared_ptr<VisitScan> scan, Deadline deadline) {
    const int remaining = scan->limit - static_cast<int>(scan->page.visits.size());
    // DynamoDB's Limit counts items examined, not matched, and the table holds more than visits:
    // examining at least 100 keeps small pages from taking a request per item. Rows past the
    // caller's limit are cut, and the cursor then names the last row kept.
    scan->request["Limit"] = std::max(remaining, 100);
    client->Invoke("Scan", scan->request, true, deadline,
           [self = shared_from_this(), scan, deadline](CallResult result) mutable {
             if (!result.status.ok()) return scan->done(result.status);
             std::vector<Visit>& visits = scan->page.visits;
             const json& items = result.body["Items"];
             if (items.is_array()) {
               for (size_t i = 0; i < items.size(); ++i) {
                 if (visits.size() == static_cast<size_t>(scan->limit)) {
                   scan->page.next_cursor = EncodeCursor(visits.back().visit_id);
                   return scan->done(std::move(scan->page));
                 }
                 StatusOr<Visit> visit = VisitFromItem(items[i]);
                 if (!visit.ok()) return scan->done(visit.status());
                 visits.push_back(std::move(*visit));
               }
             }
             const json& last = result.body["LastEvaluatedKey"];
             if (!last.is_object()) return scan->done(std::move(scan->page));
             const std::string last_id = StringAttribute(last, "visit_id").value_or("");
             if (last_id.empty()) return scan->done(UnavailableError("Scan returned a bad key"));
             if (visits.size() == static_cast<size_t>(scan->limit) ||
                 (!visits.empty() && Clock::now() > scan->return_early_after)) {
               scan->page.next_cursor = EncodeCursor(last_id);
               return scan->done(std::move(scan->page));
             }
             // An empty or short page with more to come: read on.
             scan->request["ExclusiveStartKey"] = self->Key(last_id);
             self->ScanPage(std::move(scan), deadline);
           });
  }

  // Whether the table has the "aggregates" index (DescribeTable).
  void HasAggregatesIndex(Deadline deadline, std::function<void(StatusOr<bool>)> done) {
    client->Invoke("DescribeTable", {{"TableName", options.table}}, true, deadline,
                   [done = std::move(done)](CallResult result) {
                     if (!result.status.ok()) return done(result.status);
                     const json& indexes =
                         Member(Member(result.body, "Table"), "GlobalSecondaryIndexes");
                     bool found = false;
                     if (indexes.is_array()) {
                       for (const json& index : indexes) {
                         found = found || Member(index, "IndexName") == kAggregatesIndex;
                       }
                     }
                     done(found);
                   });
  }

  void ReadSalt(int64_t day, Deadline deadline, std::function<void(StatusOr<std::optional<Salt>>)> done) {
    json body = {{"TableName", options.table},
                 {"Key", Key("salt#" + std::to_string(day))},
                 {"ConsistentRead", true}};
    client->Invoke("GetItem", std::move(body), true, deadline,
           [done = std::move(done)](CallResult result) {
             if (!result.status.ok()) return done(result.status);
             const json& item = result.body["Item"];
             if (!item.is_object()) return done(std::optional<Salt>());
             const json& encoded = Member(Member(item, "salt"), "B");
             std::optional<std::string> bytes;
             if (encoded.is_string()) bytes = Base64Decode(encoded.get<std::string>());
             Salt salt;
             if (!bytes || bytes->size() != salt.size()) {
               // Garbled on the way or stored so: either way not usable now; nothing is written.
               return done(UnavailableError("the salt DynamoDB returned is malformed"));
             }
             std::copy(bytes->begin(), bytes->end(), salt.begin());
             done(std::optional<Salt>(salt));
           });
  }
};

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
    if (!join->put.ok() && join->shard_total.ok()) {
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
  join->visit = std::make_shared<const Visit>(std::move(visit));
  std::vector<std::string> other_keys;
  for (const std::string& key : impl.CounterKeys()) {
    if (key != shard_key) other_keys.push_back(key);
  }
  join->pending = other_keys.empty() ? 2 : 3;

  // The visit item is safe to retry: its condition makes a repeat fail instead of duplicating,
  // and a repeat that fails that way after an unknown first attempt means the first one landed.
  impl.client->Invoke("PutItem", std::move(put), true, deadline, [join, finish](CallResult result) {
    if (result.status.code() == StatusCode::kAlreadyExists && result.earlier_attempt_unknown) {
      result.status = OkStatus();
    }
    join->put = result.status;
    finish(0);
  });
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

void DynamoDbStore::GetOrCreateDailySalt(int64_t day, Salt candidate, Deadline deadline,
                                         Callback<Salt> done) {
  done = impl_->Track(std::move(done));
  deadline = DynamoDbClient::Effective(deadline);
  impl_->ReadSalt(day, deadline, [self = impl_, day, candidate, deadline,
                                  done = std::move(done)](StatusOr<std::optional<Salt>> found) {
    if (!found.ok()) return done(found.status());
    if (found->has_value()) return done(**found);
    json item = {{"visit_id", S("salt#" + std::to_string(day))},
                 {"salt", {{"B", Base64Encode(std::string_view(reinterpret_cast<const char*>(candidate.data()), candidate.size()))}}},
                 // TTL removes it 48 h after its day began (TTL may lag; readers only ever ask
                 // for today's salt, so an expired one is never used).
                 {"expiration_time", N((day + 2) * 86400)}};
    json put = {{"TableName", self->options.table},
                {"Item", std::move(item)},
                {"ConditionExpression", "attribute_not_exists(visit_id)"}};
    self->client->Invoke("PutItem", std::move(put), true, deadline,
                 [self, day, candidate, deadline, done = std::move(done)](CallResult result) {
                   if (result.status.ok()) {
                     // A new day: destroy the salts that are now two and three days old rather
                     // than wait for TTL, which may lag by days. Done before answering, so a
                     // caller never sees a salt outlive its 48 hours.
                     self->DeleteSalts({day - 2, day - 3}, deadline,
                                       [done, candidate](StatusOr<int64_t>) { done(candidate); });
                     return;
                   }
                   if (result.status.code() != StatusCode::kAlreadyExists) {
                     return done(result.status);
                   }
                   // Another instance stored its candidate first (or our unknown first attempt
                   // did): use whatever is stored.
                   self->ReadSalt(day, deadline, [done](StatusOr<std::optional<Salt>> stored) {
                     if (!stored.ok()) return done(stored.status());
                     if (!stored->has_value()) return done(InternalError("salt vanished"));
                     done(**stored);
                   });
                 });
  });
}

void DynamoDbStore::DeleteSaltsBefore(int64_t first_kept_day, Deadline deadline,
                                      Callback<int64_t> done) {
  done = impl_->Track(std::move(done));
  std::vector<int64_t> days;
  for (int64_t day = first_kept_day - kSaltDaysSwept; day < first_kept_day; ++day) {
    days.push_back(day);
  }
  impl_->DeleteSalts(std::move(days), DynamoDbClient::Effective(deadline), std::move(done));
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

void DynamoDbStore::QueryStats(StatsQuery query, Deadline deadline, Callback<Stats> done) {
  Impl& impl = *impl_;
  done = impl.Track(std::move(done));
  if (Status valid = ValidateStatsQuery(query); !valid.ok()) return done(valid);
  deadline = DynamoDbClient::Effective(deadline);
  const int64_t first_day = DayOfHour(FirstHour(query));
  const int64_t last_day = DayOfHour(EndHour(query) - 1);
  const int64_t first_block = FloorDiv(first_day, kDaysPerPartition);
  const int64_t last_block = FloorDiv(last_day, kDaysPerPartition);
  // One paginated Query per 32-day partition, all at once; they complete on the HTTP thread, so
  // the join needs no lock.
  struct Join {
    StatsQuery query;
    Callback<Stats> done;
    std::vector<json> items;
    Status error;
    int64_t pending = 0;
  };
  auto join = std::make_shared<Join>();
  join->query = std::move(query);
  join->done = std::move(done);
  join->pending = last_block - first_block + 1;
  for (int64_t block = first_block; block <= last_block; ++block) {
    const auto [low, high] =
        DayRange(block, std::max(first_day, block * kDaysPerPartition),
                 std::min(last_day, block * kDaysPerPartition + kDaysPerPartition - 1));
    json request = {
        {"TableName", impl.options.table},
        {"IndexName", kAggregatesIndex},
        {"KeyConditionExpression", "agg_pk = :pk AND agg_sk BETWEEN :low AND :high"},
        {"ExpressionAttributeValues",
         {{":pk", S(std::to_string(block) + "#" + join->query.site)},
          {":low", S(low)},
          {":high", S(high)}}}};
    impl.QueryAll(std::move(request), deadline,
                  [self = impl_, join, deadline](StatusOr<std::vector<json>> items) {
      if (!items.ok()) {
        if (join->error.ok()) join->error = items.status();
      } else {
        for (json& item : *items) join->items.push_back(std::move(item));
      }
      if (--join->pending > 0) return;
      if (join->error.ok()) {
        return join->done(BuildStats(join->query, StatsRowsFromItems(join->query, join->items)));
      }
      // A table made before aggregates (or by the seed's Terraform) has no index: DynamoDB
      // answers a ValidationException, moto a ResourceNotFoundException. Ask the table.
      const StatusCode code = join->error.code();
      if (code != StatusCode::kInternal && code != StatusCode::kFailedPrecondition) {
        return join->done(join->error);
      }
      self->HasAggregatesIndex(deadline, [join](StatusOr<bool> has_index) {
        if (has_index.ok() && !*has_index) {
          return join->done(FailedPreconditionError(
              "the table has no aggregates index (footfall migrate adds it): " +
              join->error.message()));
        }
        join->done(join->error);
      });
    });
  }
}

void DynamoDbStore::ReadPageViews(std::string site, std::string path, Deadline deadline,
                                  Callback<int64_t> done) {
  Impl& impl = *impl_;
  done = impl.Track(std::move(done));
  // The packed item of the site (written from the stream) plus the path's own items (written
  // before, or since the packed item filled up).
  const std::string packed = PackedPageViewsKey(site);
  std::vector<std::string> keys = {packed};
  for (const std::string& suffix : impl.AllShardSuffixes()) {
    keys.push_back(PageViewsKey(site, path, suffix));
  }
  const std::string attribute = path.empty() ? "v" : ViewsAttribute(path);
  impl.SumCounters(std::move(keys), DynamoDbClient::Effective(deadline), std::move(done), 0,
                   [packed, attribute](const json& item) {
                     const bool is_packed = StringAttribute(item, "visit_id") == packed;
                     return NumberAttribute(item, is_packed ? attribute.c_str() : "count")
                         .value_or(0);
                   });
}

void DynamoDbStore::ScanVisits(int64_t from_ms, int64_t to_ms, std::string cursor, int limit,
                               Deadline deadline, Callback<VisitPage> done) {
  done = impl_->Track(std::move(done));
  if (limit < 1 || limit > kMaxScanLimit) return done(InvalidArgumentError("bad scan limit"));
  std::string start_after;
  if (!cursor.empty()) {
    std::optional<std::string> decoded = DecodeCursor(cursor);
    if (!decoded) return done(InvalidArgumentError("bad scan cursor"));
    start_after = std::move(*decoded);
  }
  // Timestamps compare as text (fixed-width ISO 8601), as in the SQL engines.
  constexpr int64_t kLastMs = 253'402'300'799'999;  // 9999-12-31T23:59:59.999Z
  const std::string from = FormatUtcMillis(std::clamp<int64_t>(from_ms, 0, kLastMs));
  const std::string to = to_ms > kLastMs ? "~" : FormatUtcMillis(std::max<int64_t>(to_ms, 0));
  const Clock::time_point now = Clock::now();
  deadline = DynamoDbClient::Effective(deadline);
  auto scan = std::make_shared<Impl::VisitScan>();
  scan->limit = limit;
  // Past half the budget, a scan that has rows returns them rather than risk the deadline.
  scan->return_early_after = now + (deadline - now) / 2;
  scan->done = std::move(done);
  scan->request = {{"TableName", impl_->options.table},
                   // Only visit items have a timestamp: counters, salts and aggregates drop out.
                   {"FilterExpression", "#ts >= :from AND #ts < :to"},
                   {"ExpressionAttributeNames", {{"#ts", "timestamp"}}},
                   {"ExpressionAttributeValues", {{":from", S(from)}, {":to", S(to)}}}};
  if (!start_after.empty()) scan->request["ExclusiveStartKey"] = impl_->Key(start_after);
  impl_->ScanPage(std::move(scan), deadline);
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
