// A visit as a DynamoDB item (the seed's table design plus footfall's privacy fixes): the one
// place that knows the attribute names of a visit item. Pure functions; thread-safe.
#pragma once

#include "base/status.h"
#include "store/dynamodb/dynamodb_client.h"
#include "store/store.h"

namespace footfall::store::dynamodb {

// The item stored for `visit`: visit_id, timestamp, visitor, user_agent, path, referrer, site,
// expiration_time, and screen, source, event and props when known. browser, os and device are not
// stored (they are derived from user_agent). With `for_stream`, also the campaign and the goals
// (which only the aggregates keep; the stream consumer needs them) and `aggregates` = "stream": the
// table's stream consumer aggregates this visit (and only visits that say so: a visit written by
// a store that aggregates itself, or before the stream fed the aggregates, is never counted
// twice).
json VisitItem(const Visit& visit, bool for_stream);

// A visit item back as a Visit, time_ms taken from its timestamp; browser, os and device left
// empty. Errors: kInternal when an attribute is missing or of the wrong type, or the timestamp is
// malformed (the message names the attribute, never its value).
StatusOr<Visit> VisitFromItem(const json& item);

// Whether `item` is a visit item at all: only visits have a `timestamp` (counters, salts,
// aggregates and markers have none).
bool IsVisitItem(const json& item);
// Whether a visit item was written for the stream consumer to aggregate.
bool IsForStream(const json& item);

}  // namespace footfall::store::dynamodb
