output "api_url" {
  description = "Base URL of the API (the execute-api invoke URL): append a path of routes.json, e.g. /count, /api/count, /dashboard, /counter/<page path>.svg."
  value       = local.is_rest ? aws_api_gateway_stage.footfall[0].invoke_url : aws_apigatewayv2_stage.footfall[0].invoke_url
}

locals {
  # The custom domain when there is one (its mapping serves the stage at the root), else the
  # invoke URL; without a trailing slash.
  public_base_url = local.has_domain ? "https://${var.custom_domain_name}" : trimsuffix(local.is_rest ? aws_api_gateway_stage.footfall[0].invoke_url : aws_apigatewayv2_stage.footfall[0].invoke_url, "/")
}

output "routes" {
  description = "The routes both API types serve, from routes.json: path => methods."
  value       = local.routes
}

output "stats_dashboard_url" {
  description = "The statistics dashboard (GET /dashboard). The browser asks for a user name and password: any user name, the token as password. Answers 403 while statistics are off (no stats_token_parameter_name, stats_public false)."
  value       = "${local.public_base_url}/dashboard"
}

output "counter_badge_url_prefix" {
  description = "Append a page path and .svg (an SVG badge) or .json for that page's view count, e.g. <prefix>blog/post.svg; <prefix>.svg is the site root."
  value       = "${local.public_base_url}/counter/"
}

output "stats_token_parameter_arn" {
  description = "ARN of the SSM parameter the function may read the statistics token from, or null."
  value       = local.stats_token_parameter_arn
}

output "badge_cache_ttl_s" {
  description = "Seconds the REST stage caches GET /counter/{proxy+} (0: no cache cluster)."
  value       = local.badge_cache ? var.badge_cache_ttl_s : 0
}

output "custom_domain_url" {
  description = "https://<custom_domain_name> when a custom domain is configured, else null."
  value       = local.has_domain ? "https://${var.custom_domain_name}" : null
}

output "api_type" {
  description = "\"rest\" or \"http\"."
  value       = var.api_type
}

output "api_id" {
  description = "Id of the REST or HTTP API."
  value       = local.is_rest ? aws_api_gateway_rest_api.footfall[0].id : aws_apigatewayv2_api.footfall[0].id
}

output "stage_name" {
  description = "Stage serving the API (\"$default\" for the HTTP API)."
  value       = local.is_rest ? aws_api_gateway_stage.footfall[0].stage_name : aws_apigatewayv2_stage.footfall[0].name
}

output "table_name" {
  description = "DynamoDB table name."
  value       = aws_dynamodb_table.visits.name
}

output "table_arn" {
  description = "DynamoDB table ARN."
  value       = aws_dynamodb_table.visits.arn
}

output "stream_arn" {
  description = "ARN of the visits table's stream (NEW_IMAGE), the aggregates function's event source."
  value       = aws_dynamodb_table.visits.stream_arn
}

output "counter_item_ids" {
  description = "visit_id keys of the counter items."
  value       = local.counter_ids
}

output "function_name" {
  description = "Lambda function name."
  value       = aws_lambda_function.footfall.function_name
}

output "function_arn" {
  description = "Lambda function ARN."
  value       = aws_lambda_function.footfall.arn
}

output "lambda_role_arn" {
  description = "ARN of the function's execution role."
  value       = aws_iam_role.lambda.arn
}

output "lambda_log_group" {
  description = "The function's CloudWatch log group."
  value       = aws_cloudwatch_log_group.lambda.name
}

output "maintenance_rule_name" {
  description = "Name of the EventBridge rule that invokes the API function on maintenance_schedule (expired salts)."
  value       = aws_cloudwatch_event_rule.maintenance.name
}

output "maintenance_rule_arn" {
  description = "ARN of the maintenance rule (the source_arn of the function's EventBridge permission)."
  value       = aws_cloudwatch_event_rule.maintenance.arn
}

output "aggregates_function_name" {
  description = "Name of the Lambda function that writes the statistics aggregates from the table's stream."
  value       = aws_lambda_function.aggregates.function_name
}

output "aggregates_function_arn" {
  description = "ARN of the aggregates function."
  value       = aws_lambda_function.aggregates.arn
}

output "aggregates_role_arn" {
  description = "ARN of the aggregates function's execution role."
  value       = aws_iam_role.aggregates.arn
}

output "aggregates_event_source_mapping_id" {
  description = "UUID of the event source mapping from the stream to the aggregates function (aws lambda get-event-source-mapping --uuid)."
  value       = aws_lambda_event_source_mapping.aggregates.uuid
}

output "aggregates_log_group" {
  description = "The aggregates function's CloudWatch log group."
  value       = aws_cloudwatch_log_group.aggregates.name
}

output "aggregates_failure_queue_url" {
  description = "URL of the SQS queue that receives a description of each batch of stream records Lambda gave up on."
  value       = aws_sqs_queue.aggregates_failures.url
}

output "aggregates_failure_queue_arn" {
  description = "ARN of the aggregates failure queue."
  value       = aws_sqs_queue.aggregates_failures.arn
}

output "access_log_group" {
  description = "The API's access log group."
  value       = aws_cloudwatch_log_group.api_access.name
}

output "alarm_topic_arn" {
  description = "SNS topic the alarms notify."
  value       = aws_sns_topic.alarms.arn
}

output "alarm_names" {
  description = "Names of the CloudWatch alarms."
  value       = concat([for a in aws_cloudwatch_metric_alarm.metric : a.alarm_name], [aws_cloudwatch_metric_alarm.dynamodb_throttles.alarm_name])
}

output "dashboard_name" {
  description = "CloudWatch dashboard name."
  value       = aws_cloudwatch_dashboard.footfall.dashboard_name
}

output "dashboard_url" {
  description = "Console URL of the dashboard."
  value       = "https://${local.region}.console.aws.amazon.com/cloudwatch/home?region=${local.region}#dashboards/dashboard/${aws_cloudwatch_dashboard.footfall.dashboard_name}"
}

output "web_acl_arn" {
  description = "ARN of the WAF web ACL, or null when enable_waf is off."
  value       = var.enable_waf ? aws_wafv2_web_acl.api[0].arn : null
}
