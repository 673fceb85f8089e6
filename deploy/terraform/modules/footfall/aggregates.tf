# Statistics aggregates off the request path. The API function writes only the visit item and
# the counter (FOOTFALL_AGGREGATES = "stream"); the table's stream carries each new visit item to
# a second function, the same zip and binary (`footfall lambda`, told by FOOTFALL_AGGREGATES that
# its events are DynamoDB stream batches), which rolls a batch up and writes the aggregate items.
#
#   visits table ──stream (NEW_IMAGE, 24 h)──► event source mapping ──► "<name>-aggregates"
#                   filter: INSERTs of visit     batch, window, retries,    writes aggregates to
#                   items only                   bisect, partial failures   the same table
#                                                      │ given up on
#                                                      ▼
#                                               SQS "<name>-aggregates-failures" (alarm)
#
# Its own role, log group and alarms; the API function's role is unchanged.

resource "aws_cloudwatch_log_group" "aggregates" {
  name              = local.aggregates_log_group_name
  retention_in_days = var.log_retention_days
  tags              = local.tags
}

resource "aws_iam_role" "aggregates" {
  name               = local.aggregates_function_name
  assume_role_policy = local.lambda_trust_policy
  tags               = local.tags
}

locals {
  # Written as plain JSON (not aws_iam_policy_document) so the module's tests can read it back.
  aggregates_policy_statements = concat(
    [
      {
        # What Lambda's stream poller does with the function's role, on this table's stream only.
        Sid      = "VisitsStream"
        Effect   = "Allow"
        Action   = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"]
        Resource = aws_dynamodb_table.visits.stream_arn
      },
      {
        # ListStreams names no stream; scoped to the streams of this table.
        Sid      = "ListVisitsStreams"
        Effect   = "Allow"
        Action   = ["dynamodb:ListStreams"]
        Resource = "${aws_dynamodb_table.visits.arn}/stream/*"
      },
      {
        # The aggregate writes: GetItem/BatchGetItem, PutItem, UpdateItem and TransactWriteItems,
        # which IAM authorises per action inside it (Put, Update, ConditionCheck). No DeleteItem,
        # no Query, no index.
        Sid    = "VisitsTable"
        Effect = "Allow"
        Action = [
          "dynamodb:BatchGetItem",
          "dynamodb:ConditionCheckItem",
          "dynamodb:GetItem",
          "dynamodb:PutItem",
          "dynamodb:UpdateItem",
        ]
        Resource = aws_dynamodb_table.visits.arn
      },
      {
        # Lambda sends a batch it gives up on to the on-failure destination with the function's role.
        Sid      = "FailureQueue"
        Effect   = "Allow"
        Action   = ["sqs:SendMessage"]
        Resource = aws_sqs_queue.aggregates_failures.arn
      },
      {
        Sid      = "OwnLogGroup"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = "${aws_cloudwatch_log_group.aggregates.arn}:*"
      },
    ],
    local.xray_statements,
  )
}

resource "aws_iam_role_policy" "aggregates" {
  name   = local.aggregates_function_name
  role   = aws_iam_role.aggregates.id
  policy = jsonencode({ Version = "2012-10-17", Statement = local.aggregates_policy_statements })
}

resource "aws_lambda_function" "aggregates" {
  function_name    = local.aggregates_function_name
  description      = "footfall statistics aggregates, fed by the visits table's stream"
  role             = aws_iam_role.aggregates.arn
  filename         = var.lambda_zip_path
  source_code_hash = filebase64sha256(var.lambda_zip_path)
  runtime          = "provided.al2023"
  handler          = "bootstrap"
  architectures    = [var.lambda_architecture]
  memory_size      = var.lambda_memory_mb
  timeout          = var.aggregates_timeout_s

  environment {
    # AWS_REGION is set by Lambda itself (and may not be set here).
    variables = {
      DYNAMODB_TABLE      = aws_dynamodb_table.visits.name
      FOOTFALL_LOG_LEVEL  = var.log_level
      FOOTFALL_METRICS    = "log"
      FOOTFALL_AGGREGATES = "stream"
    }
  }

  tracing_config {
    mode = var.xray_tracing ? "Active" : "PassThrough"
  }

  tags = local.tags

  # The log group must exist before the first invocation, and the role's policy before the first
  # write; neither is referenced by an argument, so say it.
  depends_on = [aws_cloudwatch_log_group.aggregates, aws_iam_role_policy.aggregates]
}

# Where Lambda records a batch it has given up on (retries or record age exhausted): a message
# naming the shard and the sequence-number range, not the records, which stay in the stream for
# 24 h. docs/aws-deploy.md says what to do with one.
resource "aws_sqs_queue" "aggregates_failures" {
  name                      = "${var.name}-aggregates-failures"
  message_retention_seconds = 1209600 # 14 days, SQS's maximum
  sqs_managed_sse_enabled   = true
  tags                      = local.tags
}

resource "aws_lambda_event_source_mapping" "aggregates" {
  event_source_arn  = aws_dynamodb_table.visits.stream_arn
  function_name     = aws_lambda_function.aggregates.arn
  starting_position = "TRIM_HORIZON"

  batch_size                         = var.aggregates_batch_size
  maximum_batching_window_in_seconds = var.aggregates_batching_window_s
  maximum_retry_attempts             = var.aggregates_max_retries
  maximum_record_age_in_seconds      = var.aggregates_max_record_age_s
  # A failing batch is split in two and each half retried; the visits an attempt applied are
  # skipped by the next (markers). The function answers {"batchItemFailures": []} when it applied
  # the batch, and fails the invocation when it could not; poison records never fail it.
  bisect_batch_on_function_error = true
  function_response_types        = ["ReportBatchItemFailures"]

  # Only new visit items written for the stream: the request path marks them `aggregates =
  # "stream"`. Counters, salts, page views, markers and aggregates have no such attribute, so the
  # function's own writes never invoke it; nor do MODIFY and REMOVE (TTL expiry) events, nor
  # visits written by a store that aggregates them itself (or by footfall before the stream fed
  # the aggregates), which would otherwise count twice.
  filter_criteria {
    filter {
      pattern = jsonencode({
        eventName = ["INSERT"]
        dynamodb  = { NewImage = { aggregates = { S = ["stream"] } } }
      })
    }
  }

  destination_config {
    on_failure {
      destination_arn = aws_sqs_queue.aggregates_failures.arn
    }
  }

  tags = local.tags
}
