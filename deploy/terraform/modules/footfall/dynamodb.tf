# The visits table. The store addresses visits, counters, salts, page views and "seen" marks by
# key (GetItem/BatchGetItem, PutItem, UpdateItem ADD, DeleteItem). Statistics need every path and
# value of a range of days, hence one index: sparse, since only the aggregate items (hourly,
# dimension and drop counters) carry agg_pk/agg_sk, so visit records are not copied into it.
# The table's stream carries each new visit item to the aggregates function (aggregates.tf), so
# the request path writes only the visit and the counter. NEW_IMAGE: the function needs the visit
# as written, never the item before a change.
# Item design: src/store/dynamodb/dynamodb_store.h.

resource "aws_dynamodb_table" "visits" {
  name                        = local.table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "visit_id"
  deletion_protection_enabled = var.deletion_protection
  stream_enabled              = true
  stream_view_type            = "NEW_IMAGE"

  attribute {
    name = "visit_id"
    type = "S"
  }

  attribute {
    name = "agg_pk"
    type = "S"
  }

  attribute {
    name = "agg_sk"
    type = "S"
  }

  global_secondary_index {
    name            = "aggregates"
    hash_key        = "agg_pk"
    range_key       = "agg_sk"
    projection_type = "ALL"
  }

  # Visit records and "seen" marks carry expiration_time (epoch seconds); counters and aggregates
  # carry none and stay.
  ttl {
    attribute_name = "expiration_time"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = var.point_in_time_recovery
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = var.table_kms_key_arn
  }

  tags = local.tags
}

# The counter item(s), created at 0 once. ignore_changes keeps a re-apply from resetting a count
# the function has since raised. "total" is kept at every shard count; reducing the shard count
# deletes the removed shards with their counts: see "Changing counter_shards" in docs/aws-deploy.md.
resource "aws_dynamodb_table_item" "counter" {
  for_each = toset(local.counter_ids)

  table_name = aws_dynamodb_table.visits.name
  hash_key   = aws_dynamodb_table.visits.hash_key

  item = jsonencode({
    visit_id = { S = each.key }
    count    = { N = "0" }
  })

  lifecycle {
    ignore_changes = [item]
  }

  # Created after, so destroyed before, the stream's mapping and the aggregates function. On AWS
  # the order does not matter (the mapping's filter drops counter records). moto, the emulator the
  # module is tested on, invokes a mapped function on every write to the table and answers 500 to
  # any write once that function is gone: deleting the counters last would fail the destroy.
  depends_on = [aws_lambda_event_source_mapping.aggregates]
}
