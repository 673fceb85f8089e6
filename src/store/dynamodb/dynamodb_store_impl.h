// DynamoDbStore::Impl: what the parts of the DynamoDB store share — its options, its client, its
// aggregate writers, the count of calls in flight — and the helpers that chain DynamoDB requests,
// each defined beside the calls that use it: dynamodb_store.cc (opening, the counter, visits,
// drops), dynamodb_store_reads.cc (statistics, page views, export scans) and
// dynamodb_store_salts.cc (daily salts). Internal to the DynamoDB engine.
// Thread-safe: options, client and the aggregate writers do not change after Open; the shard
// picker and the calls in flight have their own mutexes; request callbacks run on the client's
// HTTP thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "store/dynamodb/aggregate_writer.h"
#include "store/dynamodb/dynamodb_client.h"
#include "store/dynamodb/dynamodb_store.h"
#include "store/dynamodb/inline_aggregator.h"
#include "store/store.h"

namespace footfall::store::dynamodb {

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

  std::shared_ptr<AggregateWriter> writer;
  std::shared_ptr<InlineAggregator> inline_aggregates;  // without a stream consumer

  // `done`, counting its call as in flight until it has run (WaitForCalls waits for it).
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

  // Returns when no call is in flight.
  void WaitForCalls() {
    std::unique_lock lock(calls_mu);
    calls_done.wait(lock, [this] { return calls_in_flight == 0; });
  }

  // Defined in dynamodb_store.cc: the counter's shards, item keys, the counter's reads and ADDs.
  int PickShard();
  // Every counter item is sharded as the total is: no suffix with one shard, "#<i>" with more.
  std::string ShardSuffix(int shard) const;
  // Every suffix a sharded counter is summed over (the unsuffixed one is kept, like "total", so
  // that raising the shard count keeps the counts written before).
  std::vector<std::string> AllShardSuffixes() const;
  json Key(const std::string& id) const;
  std::string ShardKey(int shard) const;
  // Every counter item a total is summed over.
  std::vector<std::string> CounterKeys() const;
  json AddToCounter(const std::string& key, int64_t delta) const;
  // Sums `count_of(item)` over the items of `keys` (missing items count 0) with consistent
  // reads, following UnprocessedKeys.
  void SumCounters(std::vector<std::string> keys, Deadline deadline,
                   std::function<void(StatusOr<int64_t>)> done, int64_t sum_so_far = 0,
                   std::function<int64_t(const json&)> count_of = nullptr);

  // Defined in dynamodb_store_reads.cc: reading the aggregates index and scanning visits.
  // Runs `request` (a Query) and every page after it, then calls done with all items.
  void QueryAll(json request, Deadline deadline,
                std::function<void(StatusOr<std::vector<json>>)> done,
                std::vector<json> so_far = {});
  // One ScanVisits call in progress: pages are read until the page is full or the table ends.
  struct VisitScan {
    json request;
    int limit = 0;
    std::chrono::steady_clock::time_point return_early_after;
    VisitPage page;
    Callback<VisitPage> done;
  };
  void ScanPage(std::shared_ptr<VisitScan> scan, Deadline deadline);
  // Whether the table has the "aggregates" index (DescribeTable).
  void HasAggregatesIndex(Deadline deadline, std::function<void(StatusOr<bool>)> done);

  // Defined in dynamodb_store_salts.cc: the daily salt items.
  // Deletes the salt items of `days` one after the other (missing ones are fine), then calls
  // `then` with how many existed, or with the first error (the days after it are not tried).
  void DeleteSalts(std::vector<int64_t> days, Deadline deadline,
                   std::function<void(StatusOr<int64_t>)> then, int64_t deleted = 0);
  void ReadSalt(int64_t day, Deadline deadline,
                std::function<void(StatusOr<std::optional<Salt>>)> done);
};

}  // namespace footfall::store::dynamodb
