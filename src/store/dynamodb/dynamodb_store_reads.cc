// DynamoDbStore's reads of the aggregates and the visits: statistics (one paginated Query of the
// "aggregates" index per 32-day block), page views and export scans. Opening, the counter and
// the writes are in dynamodb_store.cc, the salts in dynamodb_store_salts.cc.
#include "store/dynamodb/dynamodb_store.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "base/base64.h"
#include "base/utc_time.h"
#include "store/dynamodb/aggregate_items.h"
#include "store/dynamodb/dynamodb_client.h"
#include "store/dynamodb/dynamodb_store_impl.h"
#include "store/dynamodb/visit_item.h"
#include "store/stats_rollup.h"

namespace footfall::store::dynamodb {
namespace {

using Clock = std::chrono::steady_clock;

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

void DynamoDbStore::Impl::QueryAll(json request, Deadline deadline,
                                   std::function<void(StatusOr<std::vector<json>>)> done,
                                   std::vector<json> so_far) {
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

void DynamoDbStore::Impl::ScanPage(std::shared_ptr<VisitScan> scan, Deadline deadline) {
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

void DynamoDbStore::Impl::HasAggregatesIndex(Deadline deadline,
                                             std::function<void(StatusOr<bool>)> done) {
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

}  // namespace footfall::store::dynamodb
