# The visits table. The store only addresses items by key (GetItem/BatchGetItem on the counter
# items, PutItem of a visit record, UpdateItem ADD on a counter, DeleteItem of an expired daily
# salt), so it has a hash key and no index: a GSI would copy every visit record and double the
# write cost for a query nothing makes.

resource "aws_dynamodb_table" "visits" {
  name                        = local.table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "visit_id"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "visit_id"
    type = "S"
  }

  # Visit records carry expiration_time (epoch seconds); the counter items carry none and stay.
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
}
