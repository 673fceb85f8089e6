// DynamoDbStore: visits, the counter and the aggregates in one DynamoDB table, spoken to over
// DynamoDB's JSON API (HTTPS, SigV4). The table is the seed's: hash key `visit_id` (S),
// on-demand, TTL attribute `expiration_time`, plus one sparse global secondary index
// "aggregates" (hash `agg_pk`, range `agg_sk`, projection ALL) that only aggregate items enter.
// Free text in keys is length-prefixed (F(x) = "<bytes>:x") so keys never collide; <sh> is ""
// with one counter shard, else "#<i>" for a shard picked at random per visit or drop. Items:
//   visit_id = <UUIDv7>   one per visit (timestamp, visitor, user_agent, path, referrer, site,
//                         expiration_time)
//   visit_id = "total"    the counter (`count`, N), incremented with an atomic ADD; with
//                         counter_shards > 1 the increments go to "total#0".."total#N-1" and
//                         reads sum them all plus "total"
//   visit_id = "salt#<day>"  the daily visitor-hash salt (`salt`, B), deleted when the salt two
//                         days later is created, with a TTL of 48 h as a backstop
//   visit_id = "pv#" F(site) F(path) <sh>   views of a path ("" = site) ever (`count`); read
//                         with one consistent BatchGetItem over every shard, like the total
//   visit_id = "seen#<day>#" F(site) F(path) F(visitor)   "already counted as unique today";
//                         expiration_time = 48 h after the day began (TTL)
//   visit_id = "agg#<block>#" F(site) "#" agg_sk, with agg_pk = "<block>#<site>" (block = day /
//                         32) and agg_sk = "<day in block, 2 digits>#" followed by
//                           "h<hour of day, 2 digits>#" F(path) <sh>   views, new_visitors
//                           "d#<kind>#" F(value) <sh>                    views of a referrer,
//                                                                         browser, os or device
//                           "x#" F(reason) <sh>                           requests dropped
//                         (attributes type, day, hour, kind, name, count, new_visitors: reads
//                         never parse keys)
//
// Recording a visit sends PutItem (visit) and UpdateItem (ADD 1) at the same time: one network
// round trip of latency instead of the seed's two in sequence. The two writes are not one
// transaction; see docs/design.md ("DynamoDB") for the retry rules that keep the counter from
// counting a visit twice, and what can still drift. Only when both succeeded does the visit reach
// the aggregates, in two more round trips: a conditional PutItem per "seen" item (2; refused =
// seen before), then one UpdateItem ADD per aggregate item (hourly site + path, page views site +
// path, up to 4 dimensions: 6 to 8). No TransactWriteItems: it would cost twice the write units
// and conflict on the hot site-wide items. A duplicate visit_id fails the visit's PutItem, so it
// is never aggregated. If the process dies (or a request fails) between the visit write and the
// aggregate writes, the aggregates undercount that visit; the visit and the total are the durable
// record. Aggregate failures are not reported to the caller, who could do nothing about them.
//
// Statistics are read from the index, which DynamoDB keeps eventually consistent (usually well
// under a second behind): one paginated Query per 32-day block of the range (at most 14 for 400
// days, 2 for 31), reading every hourly, dimension and drop item of the range's days; there is no
// per-path pre-aggregation, so the items read grow with the distinct paths and values per day.
//
// Thread-safe. Calls complete on the store's HTTP thread. The destructor waits for calls in
// flight (each bounded by its deadline, at most 10 s).
#pragma once

#include <memory>
#include <string>

#include "aws/http_client.h"
#include "aws/sigv4.h"
#include "store/store.h"

namespace footfall::store::dynamodb {

struct DynamoDbOptions {
  // Table name. Required.
  std::string table;
  // AWS region, e.g. "eu-west-1". Required.
  std::string region;
  // Endpoint URL; "" means https://dynamodb.<region>.amazonaws.com. (AWS_ENDPOINT_URL_DYNAMODB.)
  std::string endpoint;
  // Signing credentials. Required (Lambda provides temporary ones with a session token).
  aws::Credentials credentials;
  // Counter items written round-robin at random; 1 (default) uses the seed's single "total".
  // Use more above ~1,000 visits/s (DynamoDB's per-item write limit). At most 99.
  int counter_shards = 1;
  // CA bundle for TLS; "" uses OpenSSL's default.
  std::string ca_file;
  // Attempts per DynamoDB call, counting the first (retries also stop at the deadline). Default 8.
  int max_attempts = 8;
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

  // Creates the table as deploy/terraform does (hash key visit_id, on-demand, TTL on
  // expiration_time, the "aggregates" index), waits until it is active. For local use (`footfall
  // migrate`); the Lambda never creates tables. Succeeds if it already exists; adds the index to
  // a table that lacks it. Blocking.
  Status CreateTable(Deadline deadline);

 private:
  struct Impl;
  explicit DynamoDbStore(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace footfall::store::dynamodb
