#include "store/dynamodb/dynamodb_store.h"


#include <nlohmann/json.hpp>

#include <algorithm>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "base/base64.h"
#include "base/utc_time.h"
#include "store/dynamodb/dynamodb_client.h"
#include "store/stats_rollup.h"

namespace footfall::store::dynamodb {

using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kTotalKey = "total";
// The sparse index over aggregate items (see the header), and how many days one of its
// partitions holds.
constexpr const char* kAggregatesIndex = "aggregates";
constexpr int64_t kDaysPerPartition = 32;

int64_t FloorDiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

// Free text in a key is length-prefixed, so keys built from several texts never collide.
std::string Field(const std::string& text) { return std::to_string(text.size()) + ":" + text; }

std::string TwoDigits(int64_t n) { return (n < 10 ? "0" : "") + std::to_string(n); }

// An item of the aggregates index: one counter for (site, day, what) in one shard.
struct AggregateItem {
  std::string id;         // visit_id
  std::string partition;  // agg_pk: "<32-day block>#<site>"
  std::string sort;       // agg_sk: "<day in block, 2 digits>#<what>"
  std::string type;       // "h" hourly views, "d" a dimension's value, "x" drops
  int64_t day = 0;
  int64_t hour = 0;       // "h" only
  std::string kind;       // "d" only: referrer, browser, os, device
  std::string name;       // path ("" = whole site), dimension value or drop reason
};

// `what` must end with a length-prefixed field and the shard suffix.
AggregateItem MakeAggregateItem(const std::string& site, int64_t day, std::string what) {
  const int64_t block = FloorDiv(day, kDaysPerPartition);
  AggregateItem item;
  item.partition = std::to_string(block) + "#" + site;
  item.sort = TwoDigits(day - block * kDaysPerPartition) + "#" + what;
  item.id = "agg#" + std::to_string(block) + "#" + Field(site) + "#" + item.sort;
  item.day = day;
  return item;
}

// The agg_sk range of days [first_day, last_day] within one block (both in it).
std::pair<std::string, std::string> DayRange(int64_t block, int64_t first_day, int64_t last_day) {
  const int64_t base = block * kDaysPerPartition;
  // '$' sorts right after '#', so "<last>$" bounds every key of the last day.
  return {TwoDigits(first_day - base) + "#", TwoDigits(last_day - base) + "$"};
}

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

// A stored visit item back as a Visit (time_ms from its timestamp). Errors: kInternal.
StatusOr<Visit> VisitFromItem(const json& item) {
  Visit visit;
  auto take = [&item](const char* name, std::string& out) {
    std::optional<std::string> value = StringAttribute(item, name);
    if (value) out = std::move(*value);
    return value.has_value();
  };
  std::optional<int64_t> expiration = NumberAttribute(item, "expiration_time");
  if (!take("visit_id", visit.visit_id) || !take("timestamp", visit.timestamp) ||
      !take("visitor", visit.visitor) || !take("user_agent", visit.user_agent) ||
      !take("path", visit.path) || !take("referrer", visit.referrer) ||
      !take("site", visit.site) || !expiration) {
    return InternalError("a stored visit lacks an attribute");
  }
  visit.expiration_time = *expiration;
  take("screen", visit.screen);  // absent on visits recorded before it was kept
  take("source", visit.source);
  bool date_only = false;
  StatusOr<int64_t> time_ms = ParseUtcTime(visit.timestamp, date_only);
  if (!time_ms.ok()) return InternalError("a stored visit has a malformed timestamp");
  visit.time_ms = *time_ms;
  return visit;
}

// Sums the aggregate items a stats query read (every shard, every path of its days) into the
// rows BuildStats assembles. Hourly items outside the query's hours are skipped (days are read
// whole); malformed items are skipped.
StatsRows StatsRowsFromItems(const StatsQuery& query, const std::vector<json>& items) {
  const int64_t first = FirstHour(query), end = EndHour(query);
  StatsRows rows;
  std::map<std::string, NamedCount> paths;
  std::map<std::string, std::map<std::string, int64_t>> dimensions;
  std::map<std::string, int64_t> drops;
  for (const json& item : items) {
    const std::optional<std::string> type = StringAttribute(item, "type");
    const std::optional<std::string> name = StringAttribute(item, "name");
    const int64_t count = NumberAttribute(item, "count").value_or(0);
    if (!type || !name) continue;
    if (*type == "h") {
      const std::optional<int64_t> hour = NumberAttribute(item, "hour");
      if (!hour || *hour < first || *hour >= end) continue;
      const int64_t new_visitors = NumberAttribute(item, "new_visitors").value_or(0);
      if (*name == query.path) {
        const int64_t bucket = query.interval == Interval::kHour ? *hour : DayOfHour(*hour);
        rows.buckets[bucket].views += count;
        rows.buckets[bucket].new_visitors += new_visitors;
        rows.daily_new[DayOfHour(*hour)] += new_visitors;
      }
      if (!name->empty()) {
        NamedCount& path = paths[*name];
        path.views += count;
        path.visitor_days += new_visitors;
      }
    } else if (*type == "d") {
      if (std::optional<std::string> kind = StringAttribute(item, "kind")) {
        dimensions[*kind][*name] += count;
      }
    } else if (*type == "x") {
      drops[*name] += count;
    }
  }
  for (auto& [name, path] : paths) {
    path.name = name;
    rows.paths.push_back(std::move(path));
  }
  for (const auto& [kind, values] : dimensions) {
    for (const auto& [value, views] : values) rows.dimensions[kind].push_back({value, views, 0});
  }
  for (const auto& [reason, count] : drops) rows.drops.push_back({reason, count, 0});
  return rows;
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

  AggregateItem HourItem(const std::string& site, int64_t hour, const std::string& path,
                         int shard) const {
    const int64_t day = DayOfHour(hour);
    AggregateItem item = MakeAggregateItem(
        site, day, "h" + TwoDigits(hour - day * 24) + "#" + Field(path) + ShardSuffix(shard));
    item.type = "h";
    item.hour = hour;
    item.name = path;
    return item;
  }

  AggregateItem DimensionItem(const std::string& site, int64_t day, const std::string& kind,
                              const std::string& value, int shard) const {
    AggregateItem item =
        MakeAggregateItem(site, day, "d#" + kind + "#" + Field(value) + ShardSuffix(shard));
    item.type = "d";
    item.kind = kind;
    item.name = value;
    return item;
  }

  AggregateItem DropItem(const std::string& site, int64_t day, const std::string& reason,
                         int shard) const {
    AggregateItem item = MakeAggregateItem(site, day, "x#" + Field(reason) + ShardSuffix(shard));
    item.type = "x";
    item.name = reason;
    return item;
  }

  static std::string PageViewsKey(const std::string& site, const std::string& path,
                                  const std::string& suffix) {
    return "pv#" + Field(site) + Field(path) + suffix;
  }

  // UpdateItem: SET each of `set`, ADD each of `add` (attribute names go through placeholders:
  // several are reserved words).
  json UpdateRequest(const std::string& id, const std::vector<std::pair<std::string, json>>& set,
                     const std::vector<std::pair<std::string, int64_t>>& add) const {
    json names = json::object(), values = json::object();
    std::string expression;
    for (size_t i = 0; i < set.size(); ++i) {
      const std::string n = "#s" + std::to_string(i), v = ":s" + std::to_string(i);
      expression += (i == 0 ? "SET " : ", ") + n + " = " + v;
      names[n] = set[i].first;
      values[v] = set[i].second;
    }
    for (size_t i = 0; i < add.size(); ++i) {
      const std::string n = "#a" + std::to_string(i), v = ":a" + std::to_string(i);
      expression += (i == 0 ? (set.empty() ? "ADD " : " ADD ") : ", ") + n + " " + v;
      names[n] = add[i].first;
      values[v] = N(add[i].second);
    }
    return {{"TableName", options.table},
            {"Key", Key(id)},
            {"UpdateExpression", expression},
            {"ExpressionAttributeNames", std::move(names)},
            {"ExpressionAttributeValues", std::move(values)}};
  }

  // Adds to an aggregate item, (re)writing its index keys and descriptive attributes.
  json AddToAggregate(const AggregateItem& item, int64_t count, int64_t new_visitors) const {
    std::vector<std::pair<std::string, json>> set = {{"agg_pk", S(item.partition)},
                                                     {"agg_sk", S(item.sort)},
                                                     {"type", S(item.type)},
                                                     {"day", N(item.day)},
                                                     {"name", S(item.name)}};
    std::vector<std::pair<std::string, int64_t>> add = {{"count", count}};
    if (item.type == "h") {
      set.emplace_back("hour", N(item.hour));
      add.emplace_back("new_visitors", new_visitors);
    }
    if (item.type == "d") set.emplace_back("kind", S(item.kind));
    return UpdateRequest(item.id, set, add);
  }

  // Adds one stored visit to the aggregates, then calls `done`. Failures are swallowed: the visit
  // and the total are the durable record, the aggregates may undercount (see the header).
  void AddToAggregates(std::shared_ptr<const Visit> visit, int shard, Deadline deadline,
                       std::function<void()> done) {
    using SeenKey = std::tuple<int64_t, std::string, std::string, std::string>;
    // RollUp decides which (day, site, path, visitor) need a "seen" mark; ask it first, mark
    // them (conditional puts), then roll up again with the answers.
    std::vector<SeenKey> asked;
    RollUp({visit.get()}, [&asked](int64_t day, const std::string& site, const std::string& path,
                                   const std::string& visitor) {
      asked.emplace_back(day, site, path, visitor);
      return false;
    });
    struct Marks {
      std::map<SeenKey, bool> first_seen;
      size_t pending = 0;
    };
    auto marks = std::make_shared<Marks>();
    marks->pending = asked.size();
    auto then = [self = shared_from_this(), visit, shard, deadline, marks,
                 done = std::move(done)]() mutable {
      const Rollup rollup =
          RollUp({visit.get()}, [&marks](int64_t day, const std::string& site,
                                         const std::string& path, const std::string& visitor) {
            auto it = marks->first_seen.find({day, site, path, visitor});
            return it != marks->first_seen.end() && it->second;
          });
      self->WriteRollup(rollup, shard, deadline, std::move(done));
    };
    if (asked.empty()) return then();
    auto on_marked = std::make_shared<decltype(then)>(std::move(then));
    for (const SeenKey& key : asked) {
      const auto& [day, site, path, visitor] = key;
      json item = {{"visit_id", S("seen#" + std::to_string(day) + "#" + Field(site) +
                                  Field(path) + Field(visitor))},
                   // Which visit saw it first: a retry of our own put that already landed
                   // succeeds again, while another visit's put is refused.
                   {"first_visit", S(visit->visit_id)},
                   // Needed only while the day's salt lives (48 h); TTL removes it after.
                   {"expiration_time", N((day + 2) * 86400)}};
      json put = {{"TableName", options.table},
                  {"Item", std::move(item)},
                  {"ConditionExpression", "attribute_not_exists(visit_id) OR first_visit = :me"},
                  {"ExpressionAttributeValues", {{":me", S(visit->visit_id)}}}};
      client->Invoke("PutItem", std::move(put), true, deadline,
             [marks, key, on_marked](CallResult result) {
               // Refused by the condition: another visit saw this visitor first. Any other
               // failure counts the visitor as seen (undercount, never overcount).
               marks->first_seen[key] = result.status.ok();
               if (--marks->pending == 0) (*on_marked)();
             });
    }
  }

  // Sends one ADD per aggregate item of `rollup` (all at once), then calls `done`.
  void WriteRollup(const Rollup& rollup, int shard, Deadline deadline,
                   std::function<void()> done) {
    std::vector<json> updates;
    std::map<std::pair<std::string, std::string>, int64_t> page_views;
    for (const auto& [key, delta] : rollup.hours) {
      const auto& [site, hour, path] = key;
      updates.push_back(
          AddToAggregate(HourItem(site, hour, path, shard), delta.views, delta.new_visitors));
      page_views[{site, path}] += delta.views;
    }
    for (const auto& [key, views] : page_views) {
      updates.push_back(UpdateRequest(PageViewsKey(key.first, key.second, ShardSuffix(shard)),
                                      {}, {{"count", views}}));
    }
    for (const auto& [key, views] : rollup.dimensions) {
      const auto& [site, day, kind, value] = key;
      updates.push_back(AddToAggregate(DimensionItem(site, day, kind, value, shard), views, 0));
    }
    if (updates.empty()) return done();
    auto pending = std::make_shared<size_t>(updates.size());
    auto finished = std::make_shared<std::function<void()>>(std::move(done));
    for (json& update : updates) {
      // ADD is not idempotent: retried only when it certainly was not applied.
      client->Invoke("UpdateItem", std::move(update), false, deadline, [pending, finished](CallResult) {
        if (--*pending == 0) (*finished)();
      });
    }
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

  // Sums the `count` of `keys` with consistent reads, following UnprocessedKeys.
  void SumCounters(std::vector<std::string> keys, Deadline deadline,
                   std::function<void(StatusOr<int64_t>)> done, int64_t sum_so_far = 0) {
    if (keys.empty()) {
      done(sum_so_far);
      return;
    }
    json key_list = json::array();
    for (const auto& key : keys) key_list.push_back(Key(key));
    json body = {{"RequestItems",
                  {{options.table,
                    {{"Keys", key_list},
                     {"ConsistentRead", true},
                     {"ProjectionExpression", "#count"},
                     {"ExpressionAttributeNames", {{"#count", "count"}}}}}}}};
    client->Invoke("BatchGetItem", std::move(body), true, deadline,
           [self = shared_from_this(), deadline, done = std::move(done),
            sum_so_far](CallResult result) mutable {
             if (!result.status.ok()) return done(result.status);
             int64_t sum = sum_so_far;
             const json& responses = result.body["Responses"];
             if (responses.is_object() && responses.contains(self->options.table)) {
               for (const json& item : responses[self->options.table]) {
                 sum += NumberAttribute(item, "count").value_or(0);
               }
             }
             std::vector<std::string> unprocessed;
             const json& left = result.body["UnprocessedKeys"];
             if (left.is_object() && left.contains(self->options.table)) {
               for (const json& key : left[self->options.table]["Keys"]) {
                 unprocessed.push_back(key["visit_id"].value("S", ""));
               }
             }
             self->SumCounters(std::move(unprocessed), deadline, std::move(done), sum);
           });
  }

  // Deletes the salt items of `days` (missing ones are fine), then calls `then`.
  void DeleteSalts(std::vector<int64_t> days, Deadline deadline, std::function<void()> then) {
    if (days.empty()) return then();
    const int64_t day = days.back();
    days.pop_back();
    json body = {{"TableName", options.table}, {"Key", Key("salt#" + std::to_string(day))}};
    client->Invoke("DeleteItem", std::move(body), true, deadline,
           [self = shared_from_this(), days = std::move(days), deadline,
            then = std::move(then)](CallResult) mutable {
             self->DeleteSalts(std::move(days), deadline, std::move(then));
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
             if (last_id.empty()) return scan->done(InternalError("Scan returned a bad key"));
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

  void ReadSalt(int64_t day, Deadline deadline, std::function<void(StatusOr<std::optional<Salt>>)> done) {
    json body = {{"TableName", options.table},
                 {"Key", Key("salt#" + std::to_string(day))},
                 {"ConsistentRead", true}};
    client->Invoke("GetItem", std::move(body), true, deadline,
           [done = std::move(done)](CallResult result) {
             if (!result.status.ok()) return done(result.status);
             const json& item = result.body["Item"];
             if (!item.is_object()) return done(std::optional<Salt>());
             std::optional<std::string> bytes;
             if (item.contains("salt") && item["salt"].contains("B")) {
               bytes = Base64Decode(item["salt"].value("B", ""));
             }
             Salt salt;
             if (!bytes || bytes->size() != salt.size()) {
               return done(InternalError("stored salt is malformed"));
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
  if (options.credentials.access_key_id.empty() || options.credentials.secret_access_key.empty()) {
    return InvalidArgumentError(
        "dynamodb store needs AWS credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)");
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
  client_options.http.endpoint = endpoint;
  client_options.http.ca_file = options.ca_file;
  client_options.max_attempts = options.max_attempts;
  auto impl = std::make_shared<Impl>();
  impl->options = std::move(options);
  ASSIGN_OR_RETURN(impl->client, DynamoDbClient::Create(std::move(client_options)));
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
         "&shards=" + std::to_string(impl_->options.counter_shards);
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
      // Only a visit this call stored reaches the aggregates (a duplicate fails above), once.
      self->AddToAggregates(join->visit, join->shard, deadline,
                            [join, total] { join->done(RecordedVisit{total, 1}); });
      return;
    }
    if (!join->put.ok() && join->shard_total.ok()) {
      // The visit was not stored but was counted: take the count back before answering (an ADD
      // is only retried when it certainly was not applied, so this cannot over-correct).
      self->client->Invoke("UpdateItem", self->AddToCounter(join->shard_key, -1), false, deadline,
                   [join](CallResult) { join->done(join->put); });
      return;
    }
    join->done(!join->put.ok() ? join->put : join->shard_total.status());
  };

  json item = {{"visit_id", S(visit.visit_id)},     {"timestamp", S(visit.timestamp)},
               {"visitor", S(visit.visitor)},       {"user_agent", S(visit.user_agent)},
               {"path", S(visit.path)},             {"referrer", S(visit.referrer)},
               {"site", S(visit.site)},             {"expiration_time", N(visit.expiration_time)}};
  if (!visit.screen.empty()) item["screen"] = S(visit.screen);
  if (!visit.source.empty()) item["source"] = S(visit.source);
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
                  join->shard_total = InternalError("UpdateItem returned no count");
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
                                       [done, candidate] { done(candidate); });
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

void DynamoDbStore::RecordDrop(std::string site, int64_t time_ms, std::string reason,
                               Deadline deadline, StatusCallback done) {
  Impl& impl = *impl_;
  done = impl.Track(std::move(done));
  const AggregateItem item =
      impl.DropItem(site, DayOfHour(HourOf(time_ms)), reason, impl.PickShard());
  // ADD is not idempotent: retried only when it certainly was not applied.
  impl.client->Invoke("UpdateItem", impl.AddToAggregate(item, 1, 0), false, DynamoDbClient::Effective(deadline),
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
    impl.QueryAll(std::move(request), deadline, [join](StatusOr<std::vector<json>> items) {
      if (!items.ok()) {
        // A table made before aggregates (or by the seed's Terraform): DynamoDB answers a
        // ValidationException, moto a ResourceNotFoundException.
        const bool no_index = items.status().message().find("index") != std::string::npos &&
                              (items.status().code() == StatusCode::kInternal ||
                               items.status().code() == StatusCode::kFailedPrecondition);
        if (join->error.ok()) {
          join->error = no_index ? FailedPreconditionError(
                                       "the table has no aggregates index (footfall migrate adds "
                                       "it): " + items.status().message())
                                 : items.status();
        }
      } else {
        for (json& item : *items) join->items.push_back(std::move(item));
      }
      if (--join->pending > 0) return;
      if (!join->error.ok()) return join->done(join->error);
      join->done(BuildStats(join->query, StatsRowsFromItems(join->query, join->items)));
    });
  }
}

void DynamoDbStore::ReadPageViews(std::string site, std::string path, Deadline deadline,
                                  Callback<int64_t> done) {
  Impl& impl = *impl_;
  done = impl.Track(std::move(done));
  std::vector<std::string> keys;
  for (const std::string& suffix : impl.AllShardSuffixes()) {
    keys.push_back(Impl::PageViewsKey(site, path, suffix));
  }
  impl.SumCounters(std::move(keys), DynamoDbClient::Effective(deadline), std::move(done));
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
  deadline = std::min(deadline, Clock::now() + std::chrono::seconds(60));
  auto call = [&](const char* operation, json body) {
    auto promise = std::make_shared<std::promise<CallResult>>();
    auto future = promise->get_future();
    impl_->client->Invoke(operation, std::move(body), true, deadline,
                  [promise](CallResult result) { promise->set_value(std::move(result)); });
    return future.get();
  };
  const std::string& table = impl_->options.table;
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
       {"BillingMode", "PAY_PER_REQUEST"}});
  const bool exists = created.status.message().starts_with("ResourceInUseException");
  if (!created.status.ok() && !exists) return created.status;
  bool index_requested = !exists;
  while (true) {
    CallResult described = call("DescribeTable", {{"TableName", table}});
    if (!described.status.ok()) return described.status;
    const json& description = described.body["Table"];
    std::string index_status;
    if (description.contains("GlobalSecondaryIndexes")) {
      for (const json& existing : description["GlobalSecondaryIndexes"]) {
        if (existing.value("IndexName", "") == kAggregatesIndex) {
          index_status = existing.value("IndexStatus", "");
        }
      }
    }
    const bool table_active = description.value("TableStatus", "") == "ACTIVE";
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
  CallResult ttl = call("UpdateTimeToLive",
                        {{"TableName", table},
                         {"TimeToLiveSpecification",
                          {{"Enabled", true}, {"AttributeName", "expiration_time"}}}});
  // Re-enabling TTL that is already on is refused with a ValidationException: that is fine.
  if (!ttl.status.ok() && ttl.status.message().find("already enabled") == std::string::npos) {
    return ttl.status;
  }
  return OkStatus();
}

}  // namespace footfall::store::dynamodb
