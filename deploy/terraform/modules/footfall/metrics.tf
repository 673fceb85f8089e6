# The functions' metrics, from their log lines. Both functions run with FOOTFALL_METRICS = "log":
# each invocation's line carries the metric values as top-level members (a count of 0 is left
# out) and the FunctionName dimension, without the CloudWatch Embedded Metric Format directive
# that would declare them — about 200 of a warm visit's 426 bytes, which CloudWatch Logs bills per
# visit (docs/aws.md, "What it costs"). One metric filter per metric and log group makes the same
# metrics EMF would: namespace "Footfall", dimension FunctionName. Metric filters cost nothing; the
# metrics are custom metrics either way.

locals {
  # metric name => unit, per function.
  api_line_metrics = {
    VisitsRecorded   = "Count"
    StoreLatency     = "Milliseconds"
    Errors           = "Count"
    ColdStart        = "Count"
    StoreDriftVisits = "Count"
  }
  aggregates_line_metrics = {
    StreamVisitsApplied         = "Count"
    StreamRecordsAlreadyApplied = "Count"
    StreamRecordsSkipped        = "Count"
    Errors                      = "Count"
    ColdStart                   = "Count"
  }
}

resource "aws_cloudwatch_log_metric_filter" "line" {
  # "<metric>" on the API function's log group, "aggregates-<metric>" on the aggregates function's.
  for_each = merge(
    { for m, unit in local.api_line_metrics : m => { metric = m, unit = unit, log_group = aws_cloudwatch_log_group.lambda.name } },
    { for m, unit in local.aggregates_line_metrics : "aggregates-${m}" => { metric = m, unit = unit, log_group = aws_cloudwatch_log_group.aggregates.name } },
  )

  name           = "${var.name}-${each.key}"
  log_group_name = each.value.log_group
  # Matches the lines that carry the member (every value is a number >= 0).
  pattern = "{ $.${each.value.metric} >= 0 }"

  metric_transformation {
    name       = each.value.metric
    namespace  = "Footfall"
    value      = "$.${each.value.metric}"
    unit       = each.value.unit
    dimensions = { FunctionName = "$.FunctionName" }
  }
}
