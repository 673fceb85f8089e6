// DynamoDbStore: visits and the counter in one DynamoDB table, spoken to over DynamoDB's JSON API
// (HTTPS, SigV4). The table is the seed's: hash key `visit_id` (S), on-demand, TTL attribute
// `expiration_time`. Items:
//   visit_id = <UUIDv7>   one per visit (timestamp, visitor, user_agent, path, referrer, site,
//                         expiration_time)
//   visit_id = "total"    the counter (`count`, N), incremented with an atomic ADD; with
//                         counter_shards > 1 the increments go to "total#0".."total#N-1" and
//                         reads sum them all plus "total"
//   visit_id = "salt#<day>"  the daily visitor-hash salt (`salt`, B), deleted when the salt two
//                         days later is created, with a TTL of 48 h as a backstop
//
// Recording a visit sends PutItem (visit) and UpdateItem (ADD 1) at the same time: one network
// round trip of latency instead of the seed's two in sequence. The two writes are not one
// transaction; see docs/design.md ("DynamoDB") for the retry rules that keep the counter from
// counting a visit twice, and what can still drift.
//
// Thread-safe. Calls complete on the store's HTTP thread.
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
  // Aggregates are not kept by this engine yet: both fail with kUnimplemented.
  void RecordDrop(std::string site, int64_t time_ms, std::string reason, Deadline deadline,
                  StatusCallback done) override;
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

  // Creates the table as the seed's Terraform does (hash key visit_id, on-demand, TTL on
  // expiration_time), waits until it is active. For local use (`footfall migrate`); the Lambda
  // never creates tables. Succeeds if it already exists. Blocking.
  Status CreateTable(Deadline deadline);

 private:
  struct Impl;
  explicit DynamoDbStore(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace footfall::store::dynamodb
