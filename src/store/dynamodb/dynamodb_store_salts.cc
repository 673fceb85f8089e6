// DynamoDbStore's daily salts: one item per day ("salt#<day>"), stored by the first instance to
// ask for it, deleted when the salt two days later is created or by DeleteSaltsBefore, with a TTL
// of 48 h as a backstop.
#include "store/dynamodb/dynamodb_store.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>

#include "base/base64.h"
#include "store/dynamodb/dynamodb_client.h"
#include "store/dynamodb/dynamodb_store_impl.h"

namespace footfall::store::dynamodb {
namespace {

// How many days before the first kept one maintenance deletes salts of: it runs hourly, so a
// week covers a schedule that was off for days; TTL deletes anything older.
constexpr int64_t kSaltDaysSwept = 7;

}  // namespace

void DynamoDbStore::Impl::DeleteSalts(std::vector<int64_t> days, Deadline deadline,
                                      std::function<void(StatusOr<int64_t>)> then,
                                      int64_t deleted) {
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

void DynamoDbStore::Impl::ReadSalt(int64_t day, Deadline deadline,
                                   std::function<void(StatusOr<std::optional<Salt>>)> done) {
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

}  // namespace footfall::store::dynamodb
