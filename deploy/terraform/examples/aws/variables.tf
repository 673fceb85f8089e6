variable "region" {
  description = "AWS region to deploy to."
  type        = string
  default     = "us-east-1"
}

variable "environment" {
  description = "Stack suffix: resources are named footfall-<environment>."
  type        = string
  default     = "prod"
}

variable "lambda_zip_path" {
  description = "The function package built by the repository (build/footfall-lambda.zip)."
  type        = string
  default     = "../../../../build/footfall-lambda.zip"
}

variable "lambda_architecture" {
  description = "x86_64 or arm64: what the zip was built for."
  type        = string
  default     = "x86_64"
}

variable "allowed_origins" {
  description = "The site(s) that show the counter, e.g. [\"https://me.example\"]."
  type        = list(string)
}

variable "api_type" {
  description = "\"rest\" (the seed's REST API, WAF-capable) or \"http\" (HTTP API, cheaper)."
  type        = string
  default     = "rest"
}

variable "throttle_rate_limit" {
  description = "Stage throttle: steady requests per second."
  type        = number
  default     = 20
}

variable "throttle_burst_limit" {
  description = "Stage throttle: burst size (not below the rate)."
  type        = number
  default     = 40
}

variable "deletion_protection" {
  description = "DynamoDB deletion protection (turn off before `terraform destroy`)."
  type        = bool
  default     = true
}

variable "enable_waf" {
  description = "Attach the WAF web ACL to the REST stage (about $6/month)."
  type        = bool
  default     = false
}

variable "xray_tracing" {
  description = "X-Ray active tracing; at steady low traffic it costs about as much as the rest (docs/aws-deploy.md)."
  type        = bool
  default     = true
}

variable "alarm_email" {
  description = "Address that receives alarm mails, or null."
  type        = string
  default     = null
}

variable "custom_domain_name" {
  description = "Custom API domain such as api.me.example, or null."
  type        = string
  default     = null
}

variable "route53_zone_id" {
  description = "Hosted zone of custom_domain_name, or null."
  type        = string
  default     = null
}

variable "stats_token_parameter_name" {
  description = "SSM SecureString holding the dashboard's password (create it first: docs/aws-deploy.md), e.g. \"/footfall/prod/stats-token\"; null leaves statistics off."
  type        = string
  default     = null
}

variable "stats_token_version" {
  description = "Change after rotating the token (put-parameter --overwrite), e.g. to the parameter's new version: new function instances then read it."
  type        = string
  default     = "1"
}

variable "stats_public" {
  description = "Serve /dashboard and /api/stats to anyone, without a token."
  type        = bool
  default     = false
}

variable "goals" {
  description = "Goals whose conversions the statistics report, e.g. \"event:signup,page:/thanks\" (the module validates them)."
  type        = string
  default     = ""
}

variable "badge_cache_ttl_s" {
  description = "REST API only: seconds API Gateway caches the badges (/counter/...); 0 = off. A 0.5 GB cache costs about $14.60 a month (docs/aws-deploy.md)."
  type        = number
  default     = 0
}
