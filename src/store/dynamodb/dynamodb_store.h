// DynamoDbStore: visits, the counter and the aggregates in one DynamoDB table, spoken to over
// DynamoDB's JSON API (HTTPS, SigV4). The table is the seed's: hash key `visit_id` (S),
// on-demand, TTL attribute `expiration_time`, plus one sparse global secondary index
// "aggregates" (hash `agg_pk`, range `agg_sk`, projection ALL) that only aggregate items enter.
// Free text in keys is length-prefixed (F(x) = "<bytes>:x") so keys never collide; <sh> is ""
// with one counter shard, else "#<i>" for a shard picked at random per visit or drop. Items:
//   visit_id = <UUIDv7>   one per visit (visit_item.h)
//   visit_id = "total"    the counter (`count`, N), incremented with an atomic ADD; with
//                         counter_shards > 1 the increments go to "total#0".."total#N-1" and
//                         reads sum them all plus "total"
//   visit_id = "salt#<day>"  the daily visitor-hash salt (`salt`, B), deleted when the salt two
//                         days later is created, with a TTL of 48 h as a backstop
//   aggregate, page-view and marker items: aggregate_items.h, aggregate_writer.h
//
// Recording a visit sends PutItem (visit, conditional) and UpdateItem (ADD 1) at the same time:
// one network round trip of latency. The two writes are not one transaction; see docs/aws.md for
// the retry rules that keep the counter from counting a visit twice, and what can still drift.
// The aggregates are a projection of the visits: with `aggregates_from_stream` the table's
// DynamoDB Stream feeds them (ApplyStreamRecords, run by the Lambda that the stream invokes) and
// a visit costs nothing more; without it the store adds each stored visit itself before
// answering, through the same AggregateWriter (visits that arrive while a chunk is being written
// share the next chunk). Either way a visit is counted in the aggregates exactly once.
//
// Statistics are read from the index, which DynamoDB keeps eventually consistent: one paginated
// Query per 32-day block of the range (at most 14 for 400 days, 2 for 31).
//
// Thread-safe. Calls complete on the store's HTTP thread. The destructor waits for calls in
// flight (each bounded by its deadline, at most 10 s).
#pragma once

#include <memory>
#include <string>

#include "aws/credentials_provider.h"
#include "aws/http_client.h"
#include "aws/sigv4.h"
#include "store/dynamodb/aggregate_writer.h"
#include "store/dynamodb/stream_records.h"
#include "store/store.h"

namespace footfall::store::dynamodb {

struct DynamoDbOptions {
  // Table name. Required.
  std::string table;
  // AWS region, e.g. "eu-west-1". Required.
  std::string region;
  // Endpoint URL; "" means https://dynamodb.<region>.amazonaws.com. (AWS_ENDPOINT_URL_DYNAMODB.)
  std::string endpoint;
  // Signing credentials: static ones (Lambda provides temporary ones with a session token in the
  // environment), or a provider (the SDKs' chain: web identity, container, instance metadata),
  // which wins when set. One of the two is required.
  aws::Credentials credentials;
  std::shared_ptr<aws::CredentialsProvider> credentials_provider;
  // Counter items written round-robin at random; 1 (default) uses the seed's single "total".
  // Use more above ~1,000 visits/s (DynamoDB's per-item write limit). At most 99.
  int counter_shards = 1;
  // CA bundle for TLS; "" uses OpenSSL's default.
  std::string ca_file;
  // Attempts per DynamoDB call, counting the first (retries also stop at the deadline). Default 8.
  int max_attempts = 8;
  // True when a consumer of the table's stream (the aggregates Lambda) writes the aggregates:
  // RecordVisit then writes only the visit and the counter. Default false: the store writes them
  // itself. (URI: aggregates=stream|inline; env FOOTFALL_AGGREGATES.)
  bool aggregates_from_stream = false;
};

class DynamoDbStore final : public Store {
 public:
  // Validates options and prepares the HTTP client; makes no network call.
  // Errors: kInvalidArgument.
  static StatusOr<std::unique_ptr<DynamoDbStore>> Open(DynamoDbOptions options);
  ~DynamoDbStore() override;

  void RecordVisit(Visit visit, Deadline deadline, Callback<RecordedVisit> done) override;
  void ReadTotal(Deadline deadline, Callback<int64_t> done) override;
  void GetOrCreateDailySalt(int64_t day, Salt candidate, Deadline deadline,
                            Callback<Salt> done) override;
  // Deletes the salt items of the seven days before `first_kept_day` (one DeleteItem each; a
  // missing item costs a write unit and changes nothing); the table's TTL deletes older ones.
  // Answers how many existed.
  void DeleteSaltsBefore(int64_t first_kept_day, Deadline deadline,
                         Callback<int64_t> done) override;
  // One UpdateItem ADD on a drop item. Errors: kUnavailable, kDeadlineExceeded, kInternal.
  void RecordDrop(std::string site, int64_t time_ms, std::string reason, Deadline deadline,
                  StatusCallback done) override;
  // Errors besides the Store's: kFailedPrecondition when the table has no "aggregates" index
  // (run `footfall migrate` or apply deploy/terraform), kDeadlineExceeded.
  void QueryStats(StatsQuery query, Deadline deadline, Callback<Stats> done) override;
  void ReadPageViews(std::string site, std::string path, Deadline deadline,
                     Callback<int64_t> done) override;
  // A Scan of the whole table filtered to visit items in the range, in DynamoDB's scan order
  // (unspecified). Reads continue over empty pages until the page is full, the table ends or half
  // the deadline has passed with rows in hand. The cursor is the base64 of a tagged visit_id;
  // any other cursor is kInvalidArgument. Cost: every item of the table is read once per export.
  void ScanVisits(int64_t from_ms, int64_t to_ms, std::string cursor, int limit,
                  Deadline deadline, Callback<VisitPage> done) override;
  void PruneExpired(int64_t now_seconds, Deadline deadline, Callback<int64_t> done) override;
  void CheckReady(Deadline deadline, StatusCallback done) override;
  std::string Describe() const override;

  // Requests sent to DynamoDB and capacity units it reported, since the store was opened.
  DynamoDbUsage Usage() const;

  // Adds the visits among `records` (records of this table's stream, in stream order) to the
  // aggregates, exactly once however often they are delivered (aggregate_writer.h). Never fails
  // the call for a poison record. Calls `done` once, on the HTTP thread.
  void ApplyStreamRecords(std::vector<StreamRecord> records, Deadline deadline,
                          std::function<void(ApplyResult)> done);

  // Creates the table as deploy/terraform does (hash key visit_id, on-demand, TTL on
  // expiration_time, the "aggregates" index, a NEW_IMAGE stream), waits until it is active. For
  // local use (`footfall migrate`); the Lambda never creates tables. Succeeds if it already
  // exists; adds the index and the stream to a table that lacks them. Blocking.
  Status CreateTable(Deadline deadline);

 private:
  struct Impl;
  explicit DynamoDbStore(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace footfall::store::dynamodb
