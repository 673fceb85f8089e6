output "api_url" {
  description = "Base URL of the API: try <api_url>/api/count."
  value       = module.footfall.api_url
}

output "custom_domain_url" {
  description = "https://<custom domain>, or null."
  value       = module.footfall.custom_domain_url
}

output "table_name" {
  description = "DynamoDB table name."
  value       = module.footfall.table_name
}

output "function_name" {
  description = "Lambda function name."
  value       = module.footfall.function_name
}

output "dashboard_url" {
  description = "CloudWatch dashboard."
  value       = module.footfall.dashboard_url
}

output "aggregates_function_name" {
  description = "Lambda function that writes the statistics aggregates from the table's stream."
  value       = module.footfall.aggregates_function_name
}

output "aggregates_failure_queue_url" {
  description = "SQS queue that receives each batch of stream records Lambda gave up on (docs/aws-deploy.md)."
  value       = module.footfall.aggregates_failure_queue_url
}

output "stats_dashboard_url" {
  description = "The statistics dashboard: any user name, the token as password."
  value       = module.footfall.stats_dashboard_url
}

output "counter_badge_url_prefix" {
  description = "Append <page path>.svg for a README badge, e.g. <prefix>blog/post.svg."
  value       = module.footfall.counter_badge_url_prefix
}
