// The table footfall keeps everything in, created and brought up to date the way deploy/terraform
// defines it: hash key visit_id (S), on-demand, TTL on expiration_time, the sparse "aggregates"
// index (agg_pk, agg_sk, projection ALL) and a NEW_IMAGE stream. For `footfall migrate` and local
// use; the Lambda functions never create tables. Blocking: do not call on the client's thread.
#pragma once

#include "base/status.h"
#include "store/dynamodb/dynamodb_client.h"

namespace footfall::store::dynamodb {

// Creates the client's table and waits until it and its index are active (at most a minute, or
// `deadline`). A table that exists is completed instead: the index, the stream and TTL are added
// when missing. Errors: those of the calls (dynamodb_errors.h), kDeadlineExceeded.
Status CreateFootfallTable(DynamoDbClient& client, Deadline deadline);

}  // namespace footfall::store::dynamodb
