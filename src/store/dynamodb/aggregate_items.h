// How the statistics aggregates are laid out in the table, and how they are read back: keys of
// aggregate items, what a chunk of visits adds to them, the update requests that add it, and the
// summing of the items a statistics query read into StatsRows. docs/aws.md ("Aggregates") has the
// design and its reasoning. Pure functions; thread-safe.
//
// Every aggregate item is in the sparse "aggregates" index (agg_pk = "<32-day block>#<site>",
// agg_sk = "<day in block, 2 digits>#<what>"), so one Query per block reads a range's items:
//   "H<hh>#<slot>"         (type H) one hour of a site, written from the stream: top-level
//                          counters "v" (views), "v<path>" (views of a path), "d<kind>:<value>"
//                          (referrer, browser, os, device, screen, source), and binary sets "u"
//                          and "u<path>" of the 8-byte visitor hashes seen that hour (uniques are
//                          counted when read: a set is idempotent under retries, a counter is
//                          not). A slot past kHourSlotBytes is left for the next slot number.
//   "h<hh>#" F(path) <sh>  (type h) the layout before the stream: views and new visitors of one
//   "d#<kind>#" F(v) <sh>  (type d) path in one hour, views of a dimension value in a day; read,
//                          no longer written
//   "x#" F(reason) <sh>    (type x) requests dropped, per reason and day
// Page views ever, for /counter/…, are outside the index: "pvp#" F(site) holds "v" and "v<path>"
// up to kPackedPageViewsBytes; paths that do not fit (and every path before the stream) live in
// "pv#" F(site) F(path) <sh> items with a `count`.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/dynamodb/dynamodb_client.h"
#include "store/stats_rollup.h"
#include "store/store.h"

namespace footfall::store::dynamodb {

inline constexpr const char* kAggregatesIndex = "aggregates";
inline constexpr int64_t kDaysPerPartition = 32;
// An update that would take an hour item past this size goes to the next slot: an update costs
// a write unit per KB of the item (twice in a transaction, once more in the index), so a chunk
// written to a slot of at most 1 KB costs 3 units whatever the traffic (the figures against
// larger slots are in docs/benchmarks.md). Reads pay for it a little: a day's hour items are
// more, smaller items.
inline constexpr size_t kHourSlotBytes = 1024;
// The packed page-view item of a site takes new paths only while it is smaller than this.
inline constexpr size_t kPackedPageViewsBytes = 8192;

int64_t FloorDiv(int64_t a, int64_t b);
// Free text in a key is length-prefixed ("<bytes>:text"), so keys built from several texts never
// collide.
std::string Field(const std::string& text);
std::string TwoDigits(int64_t n);

// The keys and descriptive attributes of one aggregate item.
struct AggregateItem {
  std::string id;         // visit_id
  std::string partition;  // agg_pk: "<32-day block>#<site>"
  std::string sort;       // agg_sk: "<day in block, 2 digits>#<what>"
  std::string type;       // "H", or the older "h", "d", "x"
  int64_t day = 0;
  int64_t hour = 0;       // H, h
  int slot = 0;           // H
  std::string kind;       // d
  std::string name;       // h: path; d: value; x: reason
};

// The hour item of `site` for `hour` (hours since the epoch), slot `slot`.
AggregateItem HourItem(const std::string& site, int64_t hour, int slot);
// The drop counter of `site` for `day` and `reason`; `shard_suffix` "" or "#<i>".
AggregateItem DropItem(const std::string& site, int64_t day, const std::string& reason,
                       const std::string& shard_suffix);
// The agg_sk range covering days [first_day, last_day], both within `block`.
std::pair<std::string, std::string> DayRange(int64_t block, int64_t first_day, int64_t last_day);

// Keys of page-view items.
std::string PackedPageViewsKey(const std::string& site);
std::string PageViewsKey(const std::string& site, const std::string& path,
                         const std::string& shard_suffix);
// The attribute of a packed page-view item (and the counter of an hour item) for `path`.
std::string ViewsAttribute(const std::string& path);

// A stable 64-bit hash (FNV-1a) of `text`, as 8 bytes, most significant first.
std::string Hash64(std::string_view text);
// The set element standing for a visitor: the 64-bit hash of its visitor string, base64
// (DynamoDB's JSON form of binary). Two of n visitors of one site and day collide with a
// probability of about n²/2⁶⁵ (1e-10 for 10,000).
std::string VisitorElement(const std::string& visitor);

// What some visits add to one hour item and to a site's page views.
struct HourAdditions {
  std::map<std::string, int64_t> counters;                   // attribute → amount
  std::map<std::string, std::set<std::string>> visitor_sets;  // attribute → elements
};
struct Additions {
  std::map<std::pair<std::string, int64_t>, HourAdditions> hours;      // (site, hour)
  std::map<std::string, std::map<std::string, int64_t>> page_views;    // site → attribute → n
};
Additions AddUp(const std::vector<const Visit*>& visits);
// The attribute names `visit` adds to (or finds in) its hour item: counters and sets.
std::vector<std::string> AttributeNamesOf(const Visit& visit);

// DynamoDB's size of an item in its JSON form (names plus values, by AWS's published rules).
size_t ItemBytes(const json& item);
// The size hour item `item` would have after `additions`, from `current` as read (nullptr: the
// item does not exist yet): what the update costs, and whether the slot is full.
size_t HourItemBytesAfter(const AggregateItem& item, const json* current,
                          const HourAdditions& additions);

// An UpdateItem request body for `id` of `table`: SET each of `set`, ADD each of `add` (values in
// DynamoDB's JSON form), every name through a placeholder (several are reserved words).
json UpdateRequest(const std::string& table, const std::string& id,
                   const std::vector<std::pair<std::string, json>>& set,
                   const std::vector<std::pair<std::string, json>>& add);
// The update that adds `additions` to hour item `item` (and (re)writes its index keys).
json HourItemUpdate(const std::string& table, const AggregateItem& item,
                    const HourAdditions& additions);

// Sums the aggregate items a statistics query read (every slot, shard and path of its days; days
// are read whole) into the rows BuildStats assembles. Unique visitors of H items are counted
// from their sets: a visitor is new in the hour of the day it was first seen, for the site and
// for each path. Malformed items and attributes are skipped.
StatsRows StatsRowsFromItems(const StatsQuery& query, const std::vector<json>& items);

}  // namespace footfall::store::dynamodb
