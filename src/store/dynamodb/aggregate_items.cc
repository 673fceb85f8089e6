#include "store/dynamodb/aggregate_items.h"

#include <algorithm>

#include "base/base64.h"

namespace footfall::store::dynamodb {

namespace {

// The agg_sk and id of an aggregate item; `what` must end in a length-prefixed field, a shard
// suffix or a slot number, so that no two items share a key.
AggregateItem MakeAggregateItem(const std::string& site, int64_t day, std::string what) {
  const int64_t block = FloorDiv(day, kDaysPerPartition);
  AggregateItem item;
  item.partition = std::to_string(block) + "#" + site;
  item.sort = TwoDigits(day - block * kDaysPerPartition) + "#" + what;
  item.id = "agg#" + std::to_string(block) + "#" + Field(site) + "#" + item.sort;
  item.day = day;
  return item;
}

// DynamoDB counts a number as about one byte per two significant digits plus one.
size_t NumberBytes(int64_t n) { return std::to_string(n).size() / 2 + 1; }

// The bytes a base64 text stands for.
size_t DecodedBytes(const std::string& base64) {
  size_t padding = 0;
  for (auto it = base64.rbegin(); it != base64.rend() && *it == '='; ++it) ++padding;
  return base64.size() / 4 * 3 - std::min<size_t>(padding, 2);
}

size_t ValueBytes(const json& value) {
  if (!value.is_object() || value.size() != 1) return 0;
  const auto first = value.begin();
  const std::string& type = first.key();
  const json& content = first.value();
  if (type == "S" && content.is_string()) return content.get_ref<const std::string&>().size();
  if (type == "N" && content.is_string()) return content.get_ref<const std::string&>().size() / 2 + 1;
  if (type == "B" && content.is_string()) return DecodedBytes(content.get_ref<const std::string&>());
  if (type == "BS" && content.is_array()) {
    size_t bytes = 0;
    for (const json& element : content) {
      if (element.is_string()) bytes += DecodedBytes(element.get_ref<const std::string&>());
    }
    return bytes;
  }
  if (type == "BOOL" || type == "NULL") return 1;
  return content.dump().size();  // lists, maps, other sets: never in footfall's items
}

// The first hour a visitor was seen on one day, per set element.
using FirstSeen = std::map<std::string, int64_t>;

void Remember(FirstSeen& first_seen, const json& elements, int64_t hour) {
  if (!elements.is_array()) return;
  for (const json& element : elements) {
    if (!element.is_string()) continue;
    auto [it, inserted] = first_seen.emplace(element.get<std::string>(), hour);
    if (!inserted) it->second = std::min(it->second, hour);
  }
}

}  // namespace

int64_t FloorDiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

std::string Field(const std::string& text) { return std::to_string(text.size()) + ":" + text; }

std::string TwoDigits(int64_t n) { return (n < 10 ? "0" : "") + std::to_string(n); }

AggregateItem HourItem(const std::string& site, int64_t hour, int slot) {
  const int64_t day = DayOfHour(hour);
  AggregateItem item = MakeAggregateItem(
      site, day, "H" + TwoDigits(hour - day * 24) + "#" + std::to_string(slot));
  item.type = "H";
  item.hour = hour;
  item.slot = slot;
  return item;
}

AggregateItem DropItem(const std::string& site, int64_t day, const std::string& reason,
                       const std::string& shard_suffix) {
  AggregateItem item = MakeAggregateItem(site, day, "x#" + Field(reason) + shard_suffix);
  item.type = "x";
  item.name = reason;
  return item;
}

std::pair<std::string, std::string> DayRange(int64_t block, int64_t first_day, int64_t last_day) {
  const int64_t base = block * kDaysPerPartition;
  // '$' sorts right after '#', so "<last>$" bounds every key of the last day.
  return {TwoDigits(first_day - base) + "#", TwoDigits(last_day - base) + "$"};
}

std::string PackedPageViewsKey(const std::string& site) { return "pvp#" + Field(site); }

std::string PageViewsKey(const std::string& site, const std::string& path,
                         const std::string& shard_suffix) {
  return "pv#" + Field(site) + Field(path) + shard_suffix;
}

// Paths are absolute ("/…") and the other aggregate keys start with a letter (stats_rollup.h), so
// "v" + key never meets "v" (the site) or another name.
std::string ViewsAttribute(const std::string& path) { return "v" + path; }

std::string Hash64(std::string_view text) {
  uint64_t hash = 14695981039346656037ull;  // FNV-1a
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  std::string bytes(8, '\0');
  for (size_t i = 0; i < 8; ++i) bytes[i] = static_cast<char>(hash >> (56 - 8 * i));
  return bytes;
}

std::string VisitorElement(const std::string& visitor) { return Base64Encode(Hash64(visitor)); }

namespace {

// The dimension counter of `kind` for `value` ("" when the value is unknown: not counted).
std::string DimensionAttribute(const char* kind, const std::string& value) {
  return value.empty() ? "" : "d" + std::string(kind) + ":" + value;
}

// The dimensions of a page view, as RollUp counts them (a custom event has none).
std::vector<std::string> DimensionAttributes(const Visit& visit) {
  std::vector<std::string> names;
  if (!visit.is_page_view()) return names;
  for (const auto& [kind, value] :
       {std::pair{"referrer", &visit.referrer}, std::pair{"browser", &visit.browser},
        std::pair{"os", &visit.os}, std::pair{"device", &visit.device},
        std::pair{"screen", &visit.screen}, std::pair{"source", &visit.source},
        std::pair{"utm_source", &visit.campaign.source},
        std::pair{"utm_medium", &visit.campaign.medium},
        std::pair{"utm_campaign", &visit.campaign.name},
        std::pair{"utm_content", &visit.campaign.content},
        std::pair{"utm_term", &visit.campaign.term}}) {
    if (std::string name = DimensionAttribute(kind, *value); !name.empty()) {
      names.push_back(std::move(name));
    }
  }
  return names;
}

}  // namespace

std::vector<std::string> AttributeNamesOf(const Visit& visit) {
  std::vector<std::string> names;
  for (const std::string& key : AggregateKeysOf(visit)) {
    names.push_back(ViewsAttribute(key));
    names.push_back("u" + key);
  }
  for (std::string& name : DimensionAttributes(visit)) names.push_back(std::move(name));
  return names;
}

Additions AddUp(const std::vector<const Visit*>& visits) {
  Additions additions;
  for (const Visit* visit : visits) {
    HourAdditions& hour = additions.hours[{visit->site, HourOf(visit->time_ms)}];
    const std::string element = VisitorElement(visit->visitor);
    for (const std::string& key : AggregateKeysOf(*visit)) {
      ++hour.counters[ViewsAttribute(key)];
      hour.visitor_sets["u" + key].insert(element);
      if (key.empty() || IsPageKey(key)) ++additions.page_views[visit->site][ViewsAttribute(key)];
    }
    for (const std::string& name : DimensionAttributes(*visit)) ++hour.counters[name];
  }
  return additions;
}

size_t ItemBytes(const json& item) {
  if (!item.is_object()) return 0;
  size_t bytes = 0;
  for (const auto& [name, value] : item.items()) bytes += name.size() + ValueBytes(value);
  return bytes;
}

size_t HourItemBytesAfter(const AggregateItem& item, const json* current,
                          const HourAdditions& additions) {
  size_t bytes = 0;
  if (current != nullptr && current->is_object()) {
    bytes = ItemBytes(*current);
  } else {
    // A new item: its key and the index attributes HourItemUpdate sets.
    bytes = std::string_view("visit_id").size() + item.id.size() +
            std::string_view("agg_pk").size() + item.partition.size() +
            std::string_view("agg_sk").size() + item.sort.size() +
            std::string_view("type").size() + item.type.size() + std::string_view("day").size() +
            NumberBytes(item.day) + std::string_view("hour").size() + NumberBytes(item.hour) +
            std::string_view("slot").size() + NumberBytes(item.slot);
  }
  static const json kNone;
  const json& read = current != nullptr ? *current : kNone;
  for (const auto& [name, amount] : additions.counters) {
    const std::optional<int64_t> old = NumberAttribute(read, name.c_str());
    if (!old) {
      bytes += name.size() + NumberBytes(amount);
      continue;
    }
    bytes += NumberBytes(*old + amount);
    bytes -= std::min(bytes, NumberBytes(*old));
  }
  for (const auto& [name, elements] : additions.visitor_sets) {
    const json& existing = Member(Member(read, name.c_str()), "BS");
    if (!existing.is_array()) {
      bytes += name.size() + elements.size() * 8;
      continue;
    }
    for (const std::string& element : elements) {
      if (std::find(existing.begin(), existing.end(), json(element)) == existing.end()) bytes += 8;
    }
  }
  return bytes;
}

json UpdateRequest(const std::string& table, const std::string& id,
                   const std::vector<std::pair<std::string, json>>& set,
                   const std::vector<std::pair<std::string, json>>& add) {
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
    values[v] = add[i].second;
  }
  return {{"TableName", table},
          {"Key", {{"visit_id", S(id)}}},
          {"UpdateExpression", expression},
          {"ExpressionAttributeNames", std::move(names)},
          {"ExpressionAttributeValues", std::move(values)}};
}

json HourItemUpdate(const std::string& table, const AggregateItem& item,
                    const HourAdditions& additions) {
  std::vector<std::pair<std::string, json>> set = {
      {"agg_pk", S(item.partition)}, {"agg_sk", S(item.sort)}, {"type", S(item.type)},
      {"day", N(item.day)},          {"hour", N(item.hour)},   {"slot", N(item.slot)}};
  std::vector<std::pair<std::string, json>> add;
  for (const auto& [name, amount] : additions.counters) add.emplace_back(name, N(amount));
  for (const auto& [name, elements] : additions.visitor_sets) {
    add.emplace_back(name, json{{"BS", json(elements)}});
  }
  return UpdateRequest(table, item.id, set, add);
}

StatsRows StatsRowsFromItems(const StatsQuery& query, const std::vector<json>& items) {
  const int64_t first = FirstHour(query), end = EndHour(query);
  auto bucket_of = [&query](int64_t hour) {
    return query.interval == Interval::kHour ? hour : DayOfHour(hour);
  };
  StatsRows rows;
  std::map<std::string, NamedCount> paths;
  std::map<std::string, std::map<std::string, int64_t>> dimensions;
  std::map<std::string, int64_t> drops;
  // Per day: when each visitor was first seen on the site, and on each path (H items' sets).
  std::map<int64_t, FirstSeen> site_first_seen;
  std::map<std::pair<int64_t, std::string>, FirstSeen> path_first_seen;
  for (const json& item : items) {
    const std::optional<std::string> type = StringAttribute(item, "type");
    if (!type) continue;
    if (*type == "H") {
      const std::optional<int64_t> hour = NumberAttribute(item, "hour");
      if (!hour) continue;
      const int64_t day = DayOfHour(*hour);
      // Sets are read for every hour of the day (first sight may be before the range).
      for (const auto& [name, value] : item.items()) {
        if (name.empty() || name[0] != 'u') continue;
        const json& elements = Member(value, "BS");
        if (name == "u") {
          Remember(site_first_seen[day], elements, *hour);
        } else {
          Remember(path_first_seen[{day, name.substr(1)}], elements, *hour);
        }
      }
      if (*hour < first || *hour >= end) continue;
      for (const auto& [name, value] : item.items()) {
        if (name.empty() || (name[0] != 'v' && name[0] != 'd')) continue;
        const std::optional<int64_t> count = NumberAttribute(item, name.c_str());
        if (!count) continue;  // visit_id, day: not counters
        if (name[0] == 'v') {
          const std::string path = name.substr(1);
          if (path == query.path) rows.buckets[bucket_of(*hour)].views += *count;
          if (!path.empty()) paths[path].views += *count;
        } else if (const size_t colon = name.find(':'); colon != std::string::npos) {
          dimensions[name.substr(1, colon - 1)][name.substr(colon + 1)] += *count;
        }
      }
      continue;
    }
    const std::optional<std::string> name = StringAttribute(item, "name");
    const int64_t count = NumberAttribute(item, "count").value_or(0);
    if (!name) continue;
    if (*type == "h") {
      const std::optional<int64_t> hour = NumberAttribute(item, "hour");
      if (!hour || *hour < first || *hour >= end) continue;
      const int64_t new_visitors = NumberAttribute(item, "new_visitors").value_or(0);
      if (*name == query.path) {
        rows.buckets[bucket_of(*hour)].views += count;
        rows.buckets[bucket_of(*hour)].new_visitors += new_visitors;
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
  // A visitor is new in the hour of the day it was first seen, if that hour is in the range.
  auto count_new = [&](const FirstSeen& first_seen, int64_t day, bool for_query_path,
                       NamedCount* path) {
    for (const auto& [element, hour] : first_seen) {
      if (hour < first || hour >= end) continue;
      if (for_query_path) {
        ++rows.buckets[bucket_of(hour)].new_visitors;
        ++rows.daily_new[day];
      }
      if (path != nullptr) ++path->visitor_days;
    }
  };
  for (const auto& [day, first_seen] : site_first_seen) {
    count_new(first_seen, day, query.path.empty(), nullptr);
  }
  for (const auto& [key, first_seen] : path_first_seen) {
    const auto& [day, path] = key;
    if (path.empty()) continue;
    count_new(first_seen, day, path == query.path, &paths[path]);
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

}  // namespace footfall::store::dynamodb
