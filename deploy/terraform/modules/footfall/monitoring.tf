# Alarms (to an SNS topic, optionally mailed) and a dashboard in the provider's region. The
# functions' own metrics come from the lines they print, through the metric filters of
# metrics.tf: namespace "Footfall", dimension FunctionName; the API function's VisitsRecorded,
# StoreLatency, Errors, ColdStart, StoreDriftVisits (only in lines that follow drift), the
# aggregates function's StreamVisitsApplied, StreamRecordsSkipped, StreamRecordsAlreadyApplied.

resource "aws_sns_topic" "alarms" {
  # Not encrypted with the AWS-managed SNS key: CloudWatch alarms cannot publish to it.
  name = "${var.name}-alarms"
  tags = local.tags
}

resource "aws_sns_topic_subscription" "alarm_email" {
  count = var.alarm_email != null ? 1 : 0

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

locals {
  region = data.aws_region.current.name

  function_dimensions   = { FunctionName = aws_lambda_function.footfall.function_name }
  aggregates_dimensions = { FunctionName = aws_lambda_function.aggregates.function_name }
  failures_dimensions   = { QueueName = aws_sqs_queue.aggregates_failures.name }

  # Stage-level API Gateway metrics (free; no detailed metrics needed). The REST API names them
  # 4XXError/5XXError by ApiName and Stage, the HTTP API 4xx/5xx by ApiId and Stage.
  api_dimensions = local.is_rest ? {
    ApiName = var.name
    Stage   = var.stage_name
    } : {
    ApiId = aws_apigatewayv2_api.footfall[0].id
    Stage = "$default"
  }
  api_4xx_metric = local.is_rest ? "4XXError" : "4xx"
  api_5xx_metric = local.is_rest ? "5XXError" : "5xx"

  # Single-metric alarms. Every one compares over one 5-minute period and treats missing data
  # (no traffic) as fine.
  alarms = {
    lambda-errors = {
      description = "The function failed (crash, timeout or runtime error)."
      namespace   = "AWS/Lambda"
      metric      = "Errors"
      dimensions  = local.function_dimensions
      statistic   = "Sum"
      percentile  = null
      threshold   = 0
    }
    lambda-throttles = {
      description = "Invocations were throttled (reserved or account concurrency exhausted)."
      namespace   = "AWS/Lambda"
      metric      = "Throttles"
      dimensions  = local.function_dimensions
      statistic   = "Sum"
      percentile  = null
      threshold   = 0
    }
    store-errors = {
      description = "The handler reported store or internal errors (EMF metric Footfall/Errors)."
      namespace   = "Footfall"
      metric      = "Errors"
      dimensions  = local.function_dimensions
      statistic   = "Sum"
      percentile  = null
      threshold   = 0
    }
    store-drift = {
      description = "The function reported drift (EMF metric Footfall/StoreDriftVisits): a visit counted but not stored, whose take-back failed too. Its log line {\"event\":\"drift\"} names the visit ids (docs/aws.md)."
      namespace   = "Footfall"
      metric      = "StoreDriftVisits"
      dimensions  = local.function_dimensions
      statistic   = "Sum"
      percentile  = null
      threshold   = 0
    }
    api-5xx = {
      description = "API Gateway answered 5xx (function errors, timeouts, or integration failures)."
      namespace   = "AWS/ApiGateway"
      metric      = local.api_5xx_metric
      dimensions  = local.api_dimensions
      statistic   = "Sum"
      percentile  = null
      threshold   = 0
    }
    api-latency-p99 = {
      description = "p99 API latency above ${var.latency_alarm_ms} ms."
      namespace   = "AWS/ApiGateway"
      metric      = "Latency"
      dimensions  = local.api_dimensions
      statistic   = null
      percentile  = "p99"
      threshold   = var.latency_alarm_ms
    }
    aggregates-errors = {
      description = "The aggregates function failed a batch (crash, timeout or runtime error); Lambda bisects and retries it."
      namespace   = "AWS/Lambda"
      metric      = "Errors"
      dimensions  = local.aggregates_dimensions
      statistic   = "Sum"
      percentile  = null
      threshold   = 0
    }
    aggregates-iterator-age = {
      description = "The aggregates function is more than ${var.aggregates_iterator_age_alarm_s} s behind the table's stream (IteratorAge): statistics lag the visits, and records leave the stream after 24 h."
      namespace   = "AWS/Lambda"
      metric      = "IteratorAge"
      dimensions  = local.aggregates_dimensions
      statistic   = "Maximum"
      percentile  = null
      threshold   = var.aggregates_iterator_age_alarm_s * 1000 # IteratorAge is in milliseconds
    }
    aggregates-failures = {
      description = "Lambda gave up on a batch of stream records: those visits are missing from the statistics. Each message in ${aws_sqs_queue.aggregates_failures.name} names a shard and sequence-number range (docs/aws-deploy.md)."
      namespace   = "AWS/SQS"
      metric      = "ApproximateNumberOfMessagesVisible"
      dimensions  = local.failures_dimensions
      statistic   = "Maximum"
      percentile  = null
      threshold   = 0
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "metric" {
  for_each = local.alarms

  alarm_name          = "${var.name}-${each.key}"
  alarm_description   = each.value.description
  namespace           = each.value.namespace
  metric_name         = each.value.metric
  dimensions          = each.value.dimensions
  statistic           = each.value.statistic
  extended_statistic  = each.value.percentile
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = each.value.threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = local.tags
}

# DynamoDB reports throttling per operation (ThrottledRequests) or per direction; the sum of read
# and write throttle events covers every operation the store makes.
resource "aws_cloudwatch_metric_alarm" "dynamodb_throttles" {
  alarm_name          = "${var.name}-dynamodb-throttles"
  alarm_description   = "DynamoDB throttled reads or writes on ${local.table_name}."
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
  tags                = local.tags

  metric_query {
    id          = "throttles"
    expression  = "reads + writes"
    label       = "Throttle events"
    return_data = true
  }

  metric_query {
    id = "reads"
    metric {
      namespace   = "AWS/DynamoDB"
      metric_name = "ReadThrottleEvents"
      dimensions  = { TableName = aws_dynamodb_table.visits.name }
      period      = 300
      stat        = "Sum"
    }
  }

  metric_query {
    id = "writes"
    metric {
      namespace   = "AWS/DynamoDB"
      metric_name = "WriteThrottleEvents"
      dimensions  = { TableName = aws_dynamodb_table.visits.name }
      period      = 300
      stat        = "Sum"
    }
  }
}

locals {
  dashboard_name = var.name

  fn            = aws_lambda_function.footfall.function_name
  aggregates_fn = aws_lambda_function.aggregates.function_name
  # ["AWS/ApiGateway", "<metric>", "ApiName", "<name>", "Stage", "<stage>"] (or ApiId, Stage).
  api_metric = [for metric in ["Count", local.api_4xx_metric, local.api_5xx_metric] :
    concat(["AWS/ApiGateway", metric], flatten([for k, v in local.api_dimensions : [k, v]]))
  ]
  api_latency = concat(["AWS/ApiGateway", "Latency"], flatten([for k, v in local.api_dimensions : [k, v]]))

  dashboard_widgets = [
    {
      title   = "Visits recorded (EMF)"
      stat    = "Sum"
      metrics = [["Footfall", "VisitsRecorded", "FunctionName", local.fn]]
    },
    {
      title   = "API requests and errors"
      stat    = "Sum"
      metrics = local.api_metric
    },
    {
      title = "Latency (ms)"
      stat  = "p99"
      metrics = [
        concat(local.api_latency, [{ label = "API p99" }]),
        ["AWS/Lambda", "Duration", "FunctionName", local.fn, { label = "Lambda p99" }],
        ["Footfall", "StoreLatency", "FunctionName", local.fn, { label = "Store p99" }],
      ]
    },
    {
      title = "Lambda"
      stat  = "Sum"
      metrics = [
        ["AWS/Lambda", "Invocations", "FunctionName", local.fn],
        ["AWS/Lambda", "Errors", "FunctionName", local.fn],
        ["AWS/Lambda", "Throttles", "FunctionName", local.fn],
        ["Footfall", "Errors", "FunctionName", local.fn, { label = "Handler errors (EMF)" }],
      ]
    },
    {
      title = "DynamoDB capacity and throttling"
      stat  = "Sum"
      metrics = [
        ["AWS/DynamoDB", "ConsumedWriteCapacityUnits", "TableName", aws_dynamodb_table.visits.name],
        ["AWS/DynamoDB", "ConsumedReadCapacityUnits", "TableName", aws_dynamodb_table.visits.name],
        ["AWS/DynamoDB", "WriteThrottleEvents", "TableName", aws_dynamodb_table.visits.name],
        ["AWS/DynamoDB", "ReadThrottleEvents", "TableName", aws_dynamodb_table.visits.name],
      ]
    },
    {
      title = "Aggregates from the stream (EMF)"
      stat  = "Sum"
      metrics = [
        ["Footfall", "StreamVisitsApplied", "FunctionName", local.aggregates_fn],
        ["Footfall", "StreamRecordsSkipped", "FunctionName", local.aggregates_fn],
        ["Footfall", "StreamRecordsAlreadyApplied", "FunctionName", local.aggregates_fn],
      ]
    },
    {
      title = "Aggregates function and its failure queue"
      stat  = "Sum"
      metrics = [
        ["AWS/Lambda", "Invocations", "FunctionName", local.aggregates_fn],
        ["AWS/Lambda", "Errors", "FunctionName", local.aggregates_fn],
        ["AWS/Lambda", "IteratorAge", "FunctionName", local.aggregates_fn, { stat = "Maximum", yAxis = "right", label = "IteratorAge max (ms, right axis)" }],
        ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", aws_sqs_queue.aggregates_failures.name, { stat = "Maximum", label = "Batches given up on (failure queue)" }],
      ]
    },
  ]
}

resource "aws_cloudwatch_dashboard" "footfall" {
  dashboard_name = local.dashboard_name

  dashboard_body = jsonencode({
    widgets = concat(
      [for i, w in local.dashboard_widgets : {
        type   = "metric"
        x      = (i % 2) * 12
        y      = floor(i / 2) * 6
        width  = 12
        height = 6
        properties = {
          title   = w.title
          region  = local.region
          stat    = w.stat
          period  = 300
          view    = "timeSeries"
          metrics = w.metrics
        }
      }],
      [{
        type   = "alarm"
        x      = 12
        y      = floor(length(local.dashboard_widgets) / 2) * 6
        width  = 12
        height = 6
        properties = {
          title  = "Alarms"
          alarms = concat([for a in aws_cloudwatch_metric_alarm.metric : a.arn], [aws_cloudwatch_metric_alarm.dynamodb_throttles.arn])
        }
      }],
    )
  })
}
