variable "endpoint" {
  description = "URL of the AWS emulator, e.g. http://127.0.0.1:5055."
  type        = string
}

variable "lambda_zip_path" {
  description = "Function package to upload (any zip with a 'bootstrap' works against an emulator)."
  type        = string
}

variable "name" {
  description = "Resource name prefix."
  type        = string
  default     = "footfall-local"
}

variable "api_type" {
  description = "\"rest\" or \"http\"."
  type        = string
  default     = "rest"
}

variable "counter_shards" {
  description = "Counter items to create."
  type        = number
  default     = 1
}

variable "enable_waf" {
  description = "Create and associate the WAF web ACL (REST only)."
  type        = bool
  default     = false
}

variable "alarm_email" {
  description = "Alarm e-mail subscription, or null."
  type        = string
  default     = null
}

variable "custom_domain_name" {
  description = "Custom domain, or null."
  type        = string
  default     = null
}

variable "route53_zone_id" {
  description = "Hosted zone for the custom domain, or null."
  type        = string
  default     = null
}

variable "maintenance_schedule" {
  description = "Schedule expression of the maintenance rule (the module's default: cron(1 * * * ? *), a minute past every hour)."
  type        = string
  default     = "cron(1 * * * ? *)"
}

variable "stats_token_parameter_name" {
  description = "SSM SecureString holding the statistics token (create it first), or null."
  type        = string
  default     = null
}

variable "stats_token_version" {
  description = "FOOTFALL_STATS_TOKEN_VERSION (change it after rotating the token)."
  type        = string
  default     = "1"
}

variable "stats_public" {
  description = "Serve the statistics without a token."
  type        = bool
  default     = false
}

variable "badge_cache_ttl_s" {
  description = "REST only: seconds the stage caches GET /counter/{proxy+} (0: no cache)."
  type        = number
  default     = 0
}
