#include "store/dynamodb/aggregate_writer.h"

#include <algorithm>
#include <set>

#include "base/base64.h"
#include "store/dynamodb/aggregate_items.h"

namespace footfall::store::dynamodb {

using SteadyClock = std::chrono::steady_clock;

namespace {

// TransactWriteItems takes at most 100 actions; one is the marker.
constexpr size_t kMaxItemsPerChunk = 99;
// Keeps each UpdateExpression well under DynamoDB's 4 KB (about 14 bytes per ADD clause).
constexpr size_t kMaxNamesPerHourItem = 200;
// Keeps a marker under 8 KB.
constexpr size_t kMaxVisitsPerChunk = 1000;
// A chunk is not started with less time than this left: it could not finish.
constexpr std::chrono::milliseconds kMinTimeForChunk{500};
// Markers outlive the stream's 24 h retention, so a retried record always finds its own.
constexpr int64_t kMarkerLifetimeSeconds = 2 * 86400;
constexpr size_t kHashBytes = 8;

int64_t WriteUnits(size_t bytes) { return static_cast<int64_t>(std::max<size_t>(1, (bytes + 1023) / 1024)); }

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

bool IsRetryableCancellation(const std::string& code) {
  return code == "TransactionConflict" || code == "ThrottlingError" ||
         code == "ProvisionedThroughputExceeded" || code == "RequestLimitExceeded";
}

}  // namespace

std::string VisitHash(const std::string& visit_id) { return Hash64(visit_id); }

std::string MarkerKey(const std::string& visit_hash) { return "mk#" + Hex(visit_hash); }

struct AggregateWriter::Run {
  std::vector<StreamRecord> records;
  Deadline deadline;
  std::function<void(ApplyResult)> done;
  ApplyResult result;
  size_t pos = 0;  // the first record not yet applied, skipped or passed over
};

struct AggregateWriter::Chunk {
  size_t begin = 0, end = 0;           // records [begin, end)
  std::vector<const Visit*> visits;
  std::string listed;                  // the visits' hashes, concatenated
  std::string marker_key;
  std::map<std::string, json> read;    // visit_id → item, as read before writing
  size_t keys_read = 0;                // keys asked for (found or not)
  int64_t write_units = 0;
};

AggregateWriter::AggregateWriter(std::shared_ptr<DynamoDbClient> client)
    : client_(std::move(client)) {}

int AggregateWriter::SlotOf(const std::pair<std::string, int64_t>& hour) {
  std::lock_guard lock(slots_mu_);
  auto it = slots_.find(hour);
  return it == slots_.end() ? 0 : it->second;
}

void AggregateWriter::SetSlot(const std::pair<std::string, int64_t>& hour, int slot) {
  std::lock_guard lock(slots_mu_);
  // Hours long past are not written again; keep the map small.
  if (slots_.size() > 4096) slots_.clear();
  slots_[hour] = std::max(slots_[hour], slot);
}

void AggregateWriter::Apply(std::vector<StreamRecord> records, Deadline deadline,
                            std::function<void(ApplyResult)> done) {
  auto run = std::make_shared<Run>();
  run->records = std::move(records);
  // A caller without a deadline still gets an end: a minute, the aggregates function's timeout.
  run->deadline = std::min(deadline, SteadyClock::now() + std::chrono::seconds(60));
  run->done = std::move(done);
  Step(std::move(run));
}

void AggregateWriter::Fail(std::shared_ptr<Run> run, Status status) {
  run->result.status = std::move(status);
  run->result.failed_at = run->pos;
  run->done(std::move(run->result));
}

void AggregateWriter::Step(std::shared_ptr<Run> run) {
  std::vector<StreamRecord>& records = run->records;
  ApplyResult& result = run->result;
  // Records before the next visit have nothing to add.
  while (run->pos < records.size() && records[run->pos].kind != StreamRecord::Kind::kVisit) {
    const StreamRecord& record = records[run->pos];
    if (record.kind == StreamRecord::Kind::kPoison) {
      ++result.poison;
      if (result.poison_problems.size() < kMaxProblemsReported) {
        result.poison_problems.push_back(record.problem);
      }
    } else {
      ++result.not_visits;
    }
    ++run->pos;
  }
  if (run->pos == records.size()) return run->done(std::move(run->result));
  if (SteadyClock::now() + kMinTimeForChunk > run->deadline) {
    return Fail(run, DeadlineExceededError("no time left to apply the rest of the batch"));
  }

  // The chunk: visits from here while the transaction's limits hold. Records that are not visits
  // inside it are counted when the chunk is done.
  auto chunk = std::make_shared<Chunk>();
  chunk->begin = run->pos;
  std::set<std::pair<std::string, int64_t>> hours;
  std::set<std::string> sites;
  std::set<std::pair<std::string, std::string>> paths;  // a path may spill to its own item
  std::map<std::pair<std::string, int64_t>, std::set<std::string>> names;
  size_t end = run->pos;
  for (; end < records.size(); ++end) {
    const StreamRecord& record = records[end];
    if (record.kind != StreamRecord::Kind::kVisit) continue;
    const Visit& visit = record.visit;
    const std::pair<std::string, int64_t> hour{visit.site, HourOf(visit.time_ms)};
    const bool new_hour = !hours.count(hour), new_site = !sites.count(visit.site),
               new_path = !paths.count({visit.site, visit.path});
    const size_t items = hours.size() + new_hour + sites.size() + new_site + paths.size() +
                         new_path;
    std::set<std::string>& hour_names = names[hour];
    const std::vector<std::string> visit_names = AttributeNamesOf(visit);
    size_t new_names = 0;
    for (const std::string& name : visit_names) new_names += hour_names.count(name) == 0;
    if (!chunk->visits.empty() &&
        (items > kMaxItemsPerChunk || chunk->visits.size() == kMaxVisitsPerChunk ||
         hour_names.size() + new_names > kMaxNamesPerHourItem)) {
      break;
    }
    hours.insert(hour);
    sites.insert(visit.site);
    paths.insert({visit.site, visit.path});
    hour_names.insert(visit_names.begin(), visit_names.end());
    chunk->visits.push_back(&visit);
    chunk->listed += VisitHash(visit.visit_id);
  }
  chunk->end = end;
  chunk->marker_key = MarkerKey(chunk->listed.substr(0, kHashBytes));
  Read(std::move(run), std::move(chunk));
}

void AggregateWriter::Read(std::shared_ptr<Run> run, std::shared_ptr<Chunk> chunk) {
  std::set<std::string> ids = {chunk->marker_key};
  for (const Visit* visit : chunk->visits) {
    const std::pair<std::string, int64_t> hour{visit->site, HourOf(visit->time_ms)};
    ids.insert(HourItem(hour.first, hour.second, SlotOf(hour)).id);
    ids.insert(PackedPageViewsKey(visit->site));
  }
  json keys = json::array();
  for (const std::string& id : ids) keys.push_back({{"visit_id", S(id)}});
  chunk->read.clear();
  chunk->keys_read = ids.size();
  ReadKeys(std::move(run), std::move(chunk), std::move(keys));
}

void AggregateWriter::ReadKeys(std::shared_ptr<Run> run, std::shared_ptr<Chunk> chunk,
                               json keys) {
  const std::string& table = client_->table();
  json body = {{"RequestItems", {{table, {{"Keys", std::move(keys)}, {"ConsistentRead", true}}}}}};
  client_->Invoke(
      "BatchGetItem", std::move(body), true, run->deadline,
      [self = shared_from_this(), run, chunk](CallResult read) mutable {
        if (!read.status.ok()) return self->Fail(run, read.status);
        const std::string& table = self->client_->table();
        const json& items = Member(Member(read.body, "Responses"), table.c_str());
        if (items.is_array()) {
          for (const json& item : items) {
            if (std::optional<std::string> id = StringAttribute(item, "visit_id")) {
              chunk->read[*id] = item;
            }
          }
        }
        // Keys DynamoDB did not get to (throttling, size) are asked again.
        const json& left = Member(Member(Member(read.body, "UnprocessedKeys"), table.c_str()),
                                  "Keys");
        if (left.is_array() && !left.empty()) {
          return self->client_->After(self->client_->Backoff(1), [self, run, chunk,
                                                                  left = left]() mutable {
            self->ReadKeys(std::move(run), std::move(chunk), std::move(left));
          });
        }
        // Consistent reads, by AWS's rules: each item rounded up to 4 KB, a missing one 1 unit.
        run->result.read_units += static_cast<int64_t>(chunk->keys_read - chunk->read.size());
        for (const auto& [id, item] : chunk->read) {
          run->result.read_units += static_cast<int64_t>((ItemBytes(item) + 4095) / 4096);
        }
        auto marker = chunk->read.find(chunk->marker_key);
        if (marker == chunk->read.end()) return self->Commit(std::move(run), std::move(chunk));
        const json& listed = Member(Member(marker->second, "visits"), "B");
        std::optional<std::string> bytes =
            listed.is_string() ? Base64Decode(listed.get<std::string>()) : std::nullopt;
        if (!bytes || bytes->empty() || bytes->size() % kHashBytes != 0) {
          return self->Fail(run, InternalError("marker " + chunk->marker_key + " is malformed"));
        }
        self->Skip(std::move(run), *bytes);
      });
}

void AggregateWriter::Skip(std::shared_ptr<Run> run, const std::string& listed) {
  std::vector<StreamRecord>& records = run->records;
  size_t matched = 0;
  while (run->pos < records.size() && matched < listed.size()) {
    const StreamRecord& record = records[run->pos];
    if (record.kind == StreamRecord::Kind::kVisit) {
      if (VisitHash(record.visit.visit_id) != listed.substr(matched, kHashBytes)) break;
      matched += kHashBytes;
      ++run->result.visits_already_applied;
    } else if (record.kind == StreamRecord::Kind::kPoison) {
      ++run->result.poison;
      if (run->result.poison_problems.size() < kMaxProblemsReported) {
        run->result.poison_problems.push_back(record.problem);
      }
    } else {
      ++run->result.not_visits;
    }
    ++run->pos;
  }
  if (matched == listed.size() || run->pos < records.size()) {
    // Either every listed visit was here, or the delivery goes on with other visits than the
    // marker lists (which Lambda's in-order delivery never does): apply those as new.
    return Step(std::move(run));
  }
  // This delivery ended inside the listed visits: the next one starts at the first visit after
  // it, and must find the rest listed under that visit's marker.
  const std::string rest = listed.substr(matched);
  json put = {{"TableName", client_->table()},
              {"Item",
               {{"visit_id", S(MarkerKey(rest.substr(0, kHashBytes)))},
                {"visits", {{"B", Base64Encode(rest)}}},
                {"expiration_time",
                 N(std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count() +
                   kMarkerLifetimeSeconds)}}},
              {"ConditionExpression", "attribute_not_exists(visit_id)"}};
  run->result.write_units += WriteUnits(rest.size() + 40);
  client_->Invoke("PutItem", std::move(put), true, run->deadline,
                  [self = shared_from_this(), run](CallResult written) mutable {
                    // Already there: an earlier attempt of this very delivery wrote it.
                    if (!written.status.ok() &&
                        written.status.code() != StatusCode::kAlreadyExists) {
                      // Everything here is counted, but the next delivery would not know: this
                      // one must fail, to be delivered (and skipped) again.
                      return self->Fail(run, written.status);
                    }
                    self->Step(std::move(run));
                  });
}

void AggregateWriter::Commit(std::shared_ptr<Run> run, std::shared_ptr<Chunk> chunk) {
  const std::string& table = client_->table();
  const Additions additions = AddUp(chunk->visits);
  json actions = json::array();
  int64_t write_units = 0;
  auto read_item = [&chunk](const std::string& id) -> const json* {
    auto it = chunk->read.find(id);
    return it == chunk->read.end() ? nullptr : &it->second;
  };
  for (const auto& [hour, added] : additions.hours) {
    int slot = SlotOf(hour);
    AggregateItem item = HourItem(hour.first, hour.second, slot);
    const json* current = read_item(item.id);
    size_t bytes = HourItemBytesAfter(item, current, added);
    if (current != nullptr && bytes > kHourSlotBytes) {
      // Full: the rest of the hour goes to the next slot, which nobody has read (if another
      // writer started it, it is at most one chunk large).
      SetSlot(hour, ++slot);
      item = HourItem(hour.first, hour.second, slot);
      bytes = HourItemBytesAfter(item, nullptr, added);
    }
    actions.push_back({{"Update", HourItemUpdate(table, item, added)}});
    // Transactional write twice, plus the index's copy.
    write_units += 3 * WriteUnits(bytes);
  }
  for (const auto& [site, views] : additions.page_views) {
    const std::string packed_key = PackedPageViewsKey(site);
    const json* packed = read_item(packed_key);
    size_t bytes = packed != nullptr ? ItemBytes(*packed) : packed_key.size() + 10;
    std::vector<std::pair<std::string, json>> packed_adds;
    for (const auto& [attribute, count] : views) {
      const bool present = packed != nullptr && packed->contains(attribute);
      if (present || attribute == "v" || bytes + attribute.size() + 4 <= kPackedPageViewsBytes) {
        packed_adds.emplace_back(attribute, N(count));
        if (!present) bytes += attribute.size() + 4;
        continue;
      }
      // The packed item is full: this path counts in its own item, as before the stream.
      const std::string key = PageViewsKey(site, attribute.substr(1), "");
      actions.push_back({{"Update", UpdateRequest(table, key, {}, {{"count", N(count)}})}});
      write_units += 2 * WriteUnits(key.size() + 20);
    }
    actions.push_back({{"Update", UpdateRequest(table, packed_key, {}, packed_adds)}});
    write_units += 2 * WriteUnits(bytes);
  }
  const int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  actions.push_back({{"Put",
                      {{"TableName", table},
                       {"Item",
                        {{"visit_id", S(chunk->marker_key)},
                         {"visits", {{"B", Base64Encode(chunk->listed)}}},
                         {"expiration_time", N(now_s + kMarkerLifetimeSeconds)}}},
                       {"ConditionExpression", "attribute_not_exists(visit_id)"}}}});
  write_units += 2 * WriteUnits(chunk->marker_key.size() + chunk->listed.size() + 40);
  chunk->write_units = write_units;
  // The same token for the same chunk: DynamoDB treats a repeat within 10 minutes as done.
  json transaction = {{"TransactItems", std::move(actions)},
                      {"ClientRequestToken", Hex(VisitHash(chunk->marker_key + chunk->listed)) +
                                                 Hex(chunk->listed.substr(0, kHashBytes))}};
  Send(std::move(run), std::move(chunk), std::move(transaction), 1);
}

void AggregateWriter::Send(std::shared_ptr<Run> run, std::shared_ptr<Chunk> chunk,
                           json transaction, int attempt) {
  run->result.write_units += chunk->write_units;
  // Safe to repeat: a repeat of an applied transaction fails on the marker's condition.
  client_->Invoke(
      "TransactWriteItems", transaction, true, run->deadline,
      [self = shared_from_this(), run, chunk, transaction,
       attempt](CallResult written) mutable {
        if (written.status.ok()) {
          ++run->result.chunks;
          run->result.visits_applied += static_cast<int64_t>(chunk->visits.size());
          for (size_t i = chunk->begin; i < chunk->end; ++i) {
            if (run->records[i].kind == StreamRecord::Kind::kVisit) continue;
            if (run->records[i].kind == StreamRecord::Kind::kPoison) {
              ++run->result.poison;
              if (run->result.poison_problems.size() < kMaxProblemsReported) {
                run->result.poison_problems.push_back(run->records[i].problem);
              }
            } else {
              ++run->result.not_visits;
            }
          }
          run->pos = chunk->end;
          return self->Step(std::move(run));
        }
        if (written.error_type != "TransactionCanceledException") {
          return self->Fail(run, written.status);
        }
        const json& reasons = Member(written.error_body, "CancellationReasons");
        std::string marker_code, retryable;
        if (reasons.is_array() && !reasons.empty()) {
          marker_code = [&] {
            const json& code = Member(reasons.back(), "Code");
            return code.is_string() ? code.get<std::string>() : std::string();
          }();
          for (const json& reason : reasons) {
            const json& code = Member(reason, "Code");
            if (code.is_string() && IsRetryableCancellation(code.get<std::string>())) {
              retryable = code.get<std::string>();
            }
          }
        }
        if (marker_code == "ConditionalCheckFailed") {
          // Written by someone else (or by an attempt of ours whose answer was lost): read the
          // marker, and skip what it lists.
          return self->Read(std::move(run), std::move(chunk));
        }
        const auto delay = self->client_->Backoff(attempt);
        if (!retryable.empty() && SteadyClock::now() + delay < run->deadline) {
          return self->client_->After(delay, [self, run, chunk, transaction, attempt]() mutable {
            self->Send(std::move(run), std::move(chunk), std::move(transaction), attempt + 1);
          });
        }
        self->Fail(run, retryable.empty() ? InternalError("aggregates transaction refused: " +
                                                          written.status.message())
                                          : UnavailableError("aggregates transaction kept "
                                                             "meeting " + retryable));
      });
}

}  // namespace footfall::store::dynamodb
