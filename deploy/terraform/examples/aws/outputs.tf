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
