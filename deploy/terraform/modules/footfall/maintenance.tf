# Scheduled maintenance: EventBridge invokes the API function on var.maintenance_schedule so that
# it deletes expired daily salts even when no visitor comes. A salt must be gone 48 h after its day
# began (docs/aws.md, the salt#<day> item); the request path deletes old salts only when a visit
# creates a new one, and DynamoDB's TTL deletes expired items only "within a few days". TTL stays
# on as a backstop. The default schedule, a minute past every hour UTC, runs at 00:01: a salt lives
# 48 h and about a minute (EventBridge invokes within the minute it names), where rate(1 hour),
# counted from the rule's creation, could leave it up to an hour longer.
#
#   EventBridge rule "<name>-maintenance" ──schedule──► Lambda "<name>" (the API function)
#
# The target sends EventBridge's standard "Scheduled Event" (source "aws.events"), which the
# function recognises; no custom input. Deleting salts needs dynamodb:DeleteItem on the table,
# which the function's policy already has (lambda.tf).

resource "aws_cloudwatch_event_rule" "maintenance" {
  name                = "${var.name}-maintenance"
  description         = "Invokes ${var.name} to delete expired daily salts even without traffic"
  schedule_expression = var.maintenance_schedule
  state               = "ENABLED"
  tags                = local.tags
}

# EventBridge may invoke the function from this rule only.
resource "aws_lambda_permission" "maintenance" {
  statement_id  = "AllowMaintenanceScheduleInvoke"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.footfall.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.maintenance.arn
}

resource "aws_cloudwatch_event_target" "maintenance" {
  rule      = aws_cloudwatch_event_rule.maintenance.name
  target_id = var.name
  arn       = aws_lambda_function.footfall.arn

  # An invocation before the permission exists would fail (and only show in EventBridge's
  # FailedInvocations metric); the target refers to nothing that says so.
  depends_on = [aws_lambda_permission.maintenance]
}
