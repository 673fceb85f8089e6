// libFuzzer target: arbitrary bytes as an HTTP answer from DynamoDB (the first byte picks the
// status) through everything that reads one: ParseAnswer, then, for an ok answer, the readers of
// its items (VisitFromItem, the statistics roll-up of aggregate items, item sizes). None of them
// may throw or crash; an error must say what it is and must not be kOk.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "store/dynamodb/aggregate_items.h"
#include "store/dynamodb/dynamodb_client.h"
#include "store/dynamodb/visit_item.h"

namespace {

using footfall::store::dynamodb::json;

void Check(bool condition) {
  if (!condition) std::abort();
}

constexpr int kStatuses[] = {200, 400, 413, 500, 503, 302};

void ReadItems(const json& body) {
  namespace ddb = footfall::store::dynamodb;
  std::vector<json> items;
  for (const char* member : {"Items", "Responses"}) {
    const json& found = ddb::Member(body, member);
    if (found.is_array()) items.insert(items.end(), found.begin(), found.end());
  }
  const json& item = ddb::Member(body, "Item");
  if (!item.is_null()) items.push_back(item);
  footfall::store::StatsQuery query;
  query.site = "a.example";
  query.from_ms = 0;
  query.to_ms = 400LL * 86'400'000;
  query.interval = footfall::store::Interval::kHour;
  footfall::store::Visit visit;
  visit.site = "a.example";
  visit.path = "/";
  visit.visitor = "v";
  const ddb::Additions additions = ddb::AddUp({&visit});
  const ddb::AggregateItem hour = ddb::HourItem("a.example", 0, 0);
  for (const json& one : items) {
    auto parsed = ddb::VisitFromItem(one);
    Check(parsed.ok() || !parsed.status().message().empty());
    ddb::ItemBytes(one);
    for (const auto& [key, added] : additions.hours) ddb::HourItemBytesAfter(hour, &one, added);
  }
  ddb::StatsRowsFromItems(query, items);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const int status = kStatuses[data[0] % std::size(kStatuses)];
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  footfall::store::dynamodb::ParsedAnswer answer =
      footfall::store::dynamodb::ParseAnswer(status, body);
  if (!answer.result.status.ok()) {
    Check(!answer.result.status.message().empty());
    return 0;
  }
  Check(status == 200 && answer.result.body.is_object());
  ReadItems(answer.result.body);
  return 0;
}
