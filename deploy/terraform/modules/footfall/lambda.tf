# The footfall Lambda function, its log group (created first, so Lambda never creates one that
# keeps logs forever) and a role that can do exactly what the DynamoDB store, the logger, the
# X-Ray daemon and (when named) the statistics token's read at init do, and nothing else.

resource "aws_cloudwatch_log_group" "lambda" {
  name              = local.lambda_log_group_name
  retention_in_days = var.log_retention_days
  tags              = local.tags
}

locals {
  # Both functions may send traces. X-Ray's put actions have no resource-level permissions: "*" is
  # the only valid resource.
  xray_statements = var.xray_tracing ? [{
    Sid      = "XRay"
    Effect   = "Allow"
    Action   = ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]
    Resource = "*"
  }] : []

  # Both functions' roles: assumable by the Lambda service only.
  lambda_trust_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "lambda.amazonaws.com" }
    }]
  })
}

resource "aws_iam_role" "lambda" {
  name               = "${var.name}-lambda"
  assume_role_policy = local.lambda_trust_policy
  tags               = local.tags
}

locals {
  # Written as plain JSON (not aws_iam_policy_document) so the module's tests can read it back.
  lambda_policy_statements = concat(
    [
      {
        Sid    = "VisitsTable"
        Effect = "Allow"
        Action = [
          "dynamodb:BatchGetItem",
          "dynamodb:DeleteItem",
          "dynamodb:GetItem",
          "dynamodb:PutItem",
          "dynamodb:UpdateItem",
        ]
        Resource = aws_dynamodb_table.visits.arn
      },
      {
        Sid      = "AggregatesIndex"
        Effect   = "Allow"
        Action   = ["dynamodb:Query"]
        Resource = "${aws_dynamodb_table.visits.arn}/index/aggregates"
      },
      {
        Sid      = "OwnLogGroup"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = "${aws_cloudwatch_log_group.lambda.arn}:*"
      },
    ],
    local.xray_statements,
    local.stats_token_statements,
  )
}

resource "aws_iam_role_policy" "lambda" {
  name   = "${var.name}-lambda"
  role   = aws_iam_role.lambda.id
  policy = jsonencode({ Version = "2012-10-17", Statement = local.lambda_policy_statements })
}

resource "aws_lambda_function" "footfall" {
  function_name    = var.name
  description      = "footfall visitor counter"
  role             = aws_iam_role.lambda.arn
  filename         = var.lambda_zip_path
  source_code_hash = filebase64sha256(var.lambda_zip_path)
  runtime          = "provided.al2023"
  handler          = "bootstrap"
  architectures    = [var.lambda_architecture]
  memory_size      = var.lambda_memory_mb
  timeout          = var.lambda_timeout_s

  reserved_concurrent_executions = var.lambda_reserved_concurrency

  environment {
    # AWS_REGION is set by Lambda itself (and may not be set here). The statistics settings
    # (stats_token.tf) are added only when set.
    variables = merge({
      DYNAMODB_TABLE           = aws_dynamodb_table.visits.name
      FOOTFALL_ALLOWED_ORIGINS = join(",", var.allowed_origins)
      FOOTFALL_RETENTION_DAYS  = tostring(var.retention_days)
      FOOTFALL_COUNTER_SHARDS  = tostring(var.counter_shards)
      FOOTFALL_LOG_LEVEL       = var.log_level
      # Lines without the EMF directive; the metric filters of metrics.tf make the metrics.
      FOOTFALL_METRICS = "log"
      # The table's stream feeds the aggregates (aggregates.tf): the request path writes only the
      # visit and the counter.
      FOOTFALL_AGGREGATES = "stream"
    }, local.stats_environment, local.analytics_environment)
  }

  tracing_config {
    mode = var.xray_tracing ? "Active" : "PassThrough"
  }

  tags = local.tags

  # The log group must exist before the first invocation, and the role's policy before the first
  # write; neither is referenced by an argument, so say it.
  depends_on = [aws_cloudwatch_log_group.lambda, aws_iam_role_policy.lambda]
}

locals {
  # Goals and the distinct-value bound reach the request function only when set (footfall's own
  # defaults otherwise): which goals a visit reaches is worked out when it is recorded.
  analytics_environment = merge(
    var.goals == "" ? {} : { FOOTFALL_GOALS = var.goals },
    var.max_distinct_values == 1000 ? {} : { FOOTFALL_MAX_DISTINCT_VALUES = tostring(var.max_distinct_values) },
  )
}
