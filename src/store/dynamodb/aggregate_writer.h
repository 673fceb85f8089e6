// AggregateWriter: adds visits to the statistics aggregates (aggregate_items.h) exactly once,
// however the table's stream delivers them: at least once, retried, split in two after a failure
// ("bisect"), or with more records than before.
//
// Visits are applied in chunks, in stream order. One chunk is one TransactWriteItems: the ADDs to
// its hour items and page-view items, and a marker item "mk#<hash of the chunk's first visit>"
// (conditional: it must not exist) that lists the hashes of the chunk's visits, in order, and
// lives 48 h (the stream keeps records 24 h). Before writing, the chunk's marker is read with its
// hour and page-view items (one consistent BatchGetItem, which also tells the items' sizes):
//   - no marker: the chunk is written; if the transaction fails on the marker's condition, a
//     concurrent delivery wrote it first, and the chunk is read again;
//   - a marker: the visits it lists are already counted and are skipped, in order, as far as the
//     delivery matches it. A delivery that ends inside the listed visits (the first half of a
//     bisected batch) writes a marker for the first visit after its end listing the rest, so that
//     the second half, which starts there, finds them counted too.
// Lambda hands each shard's records to one invocation at a time, in order, so every delivery
// starts at the first record of a chunk that was written or not written as a whole. The proof
// and what the markers cost are in docs/aws.md ("Exactly once").
//
// Records that are not visits are passed over; poison records (not valid visits) are skipped and
// counted, never retried: they cannot block the stream.
//
// Thread-safe; callbacks run on the DynamoDB client's thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "store/dynamodb/dynamodb_client.h"
#include "store/dynamodb/stream_records.h"

namespace footfall::store::dynamodb {

// What one Apply did.
struct ApplyResult {
  int64_t visits_applied = 0;          // added to the aggregates by this call
  int64_t visits_already_applied = 0;  // found counted by an earlier delivery (markers)
  int64_t not_visits = 0;              // records with nothing to aggregate
  int64_t poison = 0;                  // records skipped as not valid visits
  std::vector<std::string> poison_problems;  // why (at most kMaxProblemsReported)
  int64_t chunks = 0;                  // transactions written
  // Write request units by AWS's rules, from the sizes read before each write (a transactional
  // write counts twice, an item in the index once more).
  int64_t write_units = 0;
  // Read request units of the consistent reads before each write, by AWS's rules.
  int64_t read_units = 0;
  // Not ok when the delivery must be retried: every record before `failed_at` (an index into
  // the records) is applied, none from it on (failed_at may be the end, when what was applied
  // could not be protected against a partial redelivery). Errors: kUnavailable,
  // kDeadlineExceeded, kInternal (DynamoDB refused a write it will always refuse).
  Status status;
  size_t failed_at = 0;
};

inline constexpr size_t kMaxProblemsReported = 10;

class AggregateWriter : public std::enable_shared_from_this<AggregateWriter> {
 public:
  explicit AggregateWriter(std::shared_ptr<DynamoDbClient> client);

  // Applies `records` (in stream order), stopping at the first chunk that cannot be written by
  // `deadline` (at most a minute from now). Calls `done` once.
  void Apply(std::vector<StreamRecord> records, Deadline deadline,
             std::function<void(ApplyResult)> done);

 private:
  struct Run;
  struct Chunk;
  void Step(std::shared_ptr<Run> run);
  void Read(std::shared_ptr<Run> run, std::shared_ptr<Chunk> chunk);
  void ReadKeys(std::shared_ptr<Run> run, std::shared_ptr<Chunk> chunk, json keys);
  void Skip(std::shared_ptr<Run> run, const std::string& listed);
  void Commit(std::shared_ptr<Run> run, std::shared_ptr<Chunk> chunk);
  void Send(std::shared_ptr<Run> run, std::shared_ptr<Chunk> chunk, json transaction,
            int attempt);
  void Fail(std::shared_ptr<Run> run, Status status);

  // The slot an hour item of (site, hour) is being filled in; 0 unless seen full.
  int SlotOf(const std::pair<std::string, int64_t>& hour);
  void SetSlot(const std::pair<std::string, int64_t>& hour, int slot);

  std::shared_ptr<DynamoDbClient> client_;
  std::mutex slots_mu_;
  std::map<std::pair<std::string, int64_t>, int> slots_;
};

// The 8-byte hash (FNV-1a, 64 bits) of a visit_id that markers list, and the key of the marker
// of a chunk whose first visit has that hash. Exposed for tests.
std::string VisitHash(const std::string& visit_id);
std::string MarkerKey(const std::string& visit_hash);

}  // namespace footfall::store::dynamodb
