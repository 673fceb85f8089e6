# Inputs of the footfall module. Every variable has a default except the two that have no safe one:
# the Lambda zip and the allowed origins.

# ---------------------------------------------------------------------------------------------
# Naming
# ---------------------------------------------------------------------------------------------

variable "name" {
  description = "Prefix of every resource name (function, table, API, alarms, dashboard). Use one per stack, e.g. footfall-prod."
  type        = string
  default     = "footfall"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,39}$", var.name))
    error_message = "name must be 3-40 characters of lower-case letters, digits and '-', starting with a letter."
  }
}

variable "tags" {
  description = "Tags added to every taggable resource (on top of the provider's default_tags)."
  type        = map(string)
  default     = {}
}

# ---------------------------------------------------------------------------------------------
# Lambda function
# ---------------------------------------------------------------------------------------------

variable "lambda_zip_path" {
  description = "Path of the function package (build/footfall-lambda.zip): a zip whose 'bootstrap' is the footfall Lambda binary."
  type        = string

  validation {
    condition     = endswith(var.lambda_zip_path, ".zip")
    error_message = "lambda_zip_path must name a .zip file."
  }
}

variable "lambda_architecture" {
  description = "Instruction set the zip was built for: x86_64 or arm64."
  type        = string
  default     = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.lambda_architecture)
    error_message = "lambda_architecture must be x86_64 or arm64."
  }
}

variable "lambda_memory_mb" {
  description = "Function memory in MB; CPU share grows with it. 128 is plenty for a native binary."
  type        = number
  default     = 128

  validation {
    condition     = var.lambda_memory_mb >= 128 && var.lambda_memory_mb <= 10240 && floor(var.lambda_memory_mb) == var.lambda_memory_mb
    error_message = "lambda_memory_mb must be a whole number from 128 to 10240."
  }
}

variable "lambda_timeout_s" {
  description = "Function timeout in seconds. API Gateway gives up after 29 s (HTTP API 30 s), so more is useless."
  type        = number
  default     = 10

  validation {
    condition     = var.lambda_timeout_s >= 1 && var.lambda_timeout_s <= 29 && floor(var.lambda_timeout_s) == var.lambda_timeout_s
    error_message = "lambda_timeout_s must be a whole number from 1 to 29."
  }
}

variable "lambda_reserved_concurrency" {
  description = "Reserved concurrent executions: -1 leaves the function unreserved (default), 0 stops all invocations, N caps it at N (and caps the cost of a flood)."
  type        = number
  default     = -1

  validation {
    condition     = var.lambda_reserved_concurrency >= -1 && floor(var.lambda_reserved_concurrency) == var.lambda_reserved_concurrency
    error_message = "lambda_reserved_concurrency must be -1 (unreserved) or a whole number >= 0."
  }
}

variable "xray_tracing" {
  description = "Active X-Ray tracing on the function (and the REST stage). Adds the two X-Ray put actions to the role."
  type        = bool
  default     = true
}

variable "log_retention_days" {
  description = "Retention of the function's and the API's log groups, in days."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of CloudWatch Logs' retention values (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)."
  }
}

# ---------------------------------------------------------------------------------------------
# What the function is told (its environment)
# ---------------------------------------------------------------------------------------------

variable "allowed_origins" {
  description = "Origins allowed to record visits and read CORS responses, e.g. [\"https://me.example\"]. Passed as FOOTFALL_ALLOWED_ORIGINS."
  type        = list(string)

  validation {
    condition     = length(var.allowed_origins) > 0
    error_message = "allowed_origins must list at least one origin."
  }

  validation {
    condition     = alltrue([for o in var.allowed_origins : can(regex("^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$", o))])
    error_message = "Each allowed origin must be scheme://host[:port] with no path, no trailing '/' and no comma, e.g. https://me.example."
  }
}

variable "retention_days" {
  description = "Days a visit record is kept before DynamoDB's TTL deletes it (FOOTFALL_RETENTION_DAYS)."
  type        = number
  default     = 90

  validation {
    condition     = var.retention_days >= 1 && var.retention_days <= 3650 && floor(var.retention_days) == var.retention_days
    error_message = "retention_days must be a whole number from 1 to 3650."
  }
}

variable "counter_shards" {
  description = "Number of counter items the total is spread over (FOOTFALL_COUNTER_SHARDS). One item takes about 1,000 increments/s; raise it only above that. Changing it is a data migration: see docs/aws-deploy.md."
  type        = number
  default     = 1

  validation {
    condition     = var.counter_shards >= 1 && var.counter_shards <= 100 && floor(var.counter_shards) == var.counter_shards
    error_message = "counter_shards must be a whole number from 1 to 100."
  }
}

variable "log_level" {
  description = "Function log level (FOOTFALL_LOG_LEVEL): info (a line per invocation) or warn (failures only). The binary refuses to start with anything else."
  type        = string
  default     = "info"

  validation {
    condition     = contains(["info", "warn"], var.log_level)
    error_message = "log_level must be info or warn (the values footfall lambda accepts)."
  }
}

variable "goals" {
  description = "Goals whose conversions /api/stats reports (FOOTFALL_GOALS): a comma-separated list of event:NAME and page:PATTERN ('*' matches any run of characters), e.g. \"event:signup,page:/thanks\". \"\" (default): none."
  type        = string
  default     = ""

  validation {
    condition = alltrue([
      for goal in split(",", var.goals) : trimspace(goal) == "" || can(regex("^(event:.+|page:/.*)$", trimspace(goal)))
    ])
    error_message = "Each goal must be event:NAME or page:/PATH (a '*' matches any run of characters)."
  }
}

variable "max_distinct_values" {
  description = "Distinct event names, property keys and values and campaign values kept per site and UTC day (FOOTFALL_MAX_DISTINCT_VALUES); more are counted as \"(other)\"."
  type        = number
  default     = 1000

  validation {
    condition     = var.max_distinct_values >= 1 && var.max_distinct_values <= 100000 && floor(var.max_distinct_values) == var.max_distinct_values
    error_message = "max_distinct_values must be a whole number from 1 to 100000 (what footfall accepts)."
  }
}

# ---------------------------------------------------------------------------------------------
# Statistics: GET /api/stats and GET /dashboard (stats_token.tf)
# ---------------------------------------------------------------------------------------------

variable "stats_token_parameter_name" {
  description = "Name of an SSM Parameter Store SecureString holding the statistics token (the password of the dashboard, the bearer token of /api/stats), e.g. \"/footfall/prod/stats-token\". Create it yourself (aws ssm put-parameter --type SecureString; docs/aws-deploy.md): the module only names it (FOOTFALL_STATS_TOKEN_PARAMETER) and lets the function read it (ssm:GetParameter on it, kms:Decrypt through SSM), so the token never enters the Terraform state. null (default): statistics are off (403) unless stats_public."
  type        = string
  default     = null

  validation {
    # (Terraform evaluates both sides of || and &&: hence the conditional.)
    condition = var.stats_token_parameter_name == null ? true : (
      can(regex("^(/[A-Za-z0-9_.-]+)+$|^[A-Za-z0-9_.-]+$", var.stats_token_parameter_name)) &&
      length(var.stats_token_parameter_name) <= 1011 &&
      !can(regex("^/?(?i:aws|ssm)", var.stats_token_parameter_name))
    )
    error_message = "stats_token_parameter_name must be an SSM parameter name: letters, digits and '_.-', either one name (\"footfall-stats-token\") or a path starting with '/' (\"/footfall/prod/stats-token\"), not beginning with \"aws\" or \"ssm\"."
  }
}

variable "stats_token_kms_key_arn" {
  description = "ARN of the customer managed KMS key the token parameter is encrypted with (put-parameter --key-id). null (default): SSM's AWS managed key aws/ssm. The function may decrypt with this one key, and only through SSM."
  type        = string
  default     = null

  validation {
    condition     = var.stats_token_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.stats_token_kms_key_arn))
    error_message = "stats_token_kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), not an alias."
  }

  validation {
    condition     = var.stats_token_kms_key_arn == null || var.stats_token_parameter_name != null
    error_message = "stats_token_kms_key_arn needs stats_token_parameter_name."
  }
}

variable "stats_token_version" {
  description = "Passed as FOOTFALL_STATS_TOKEN_VERSION. The function reads the token once per execution environment, at init; after rotating it (put-parameter --overwrite) change this value (e.g. to the parameter's new version) and apply: the new configuration makes Lambda start new environments, which read the new token."
  type        = string
  default     = "1"

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]{1,64}$", var.stats_token_version))
    error_message = "stats_token_version must be 1-64 letters, digits, '.', '_' or '-'."
  }
}

variable "stats_public" {
  description = "Serve /api/stats and /dashboard to anyone, without a token (FOOTFALL_STATS_PUBLIC=true): a public dashboard. The statistics are aggregates only, but they show every page path and referrer. Default false."
  type        = bool
  default     = false
}

# ---------------------------------------------------------------------------------------------
# Scheduled maintenance (maintenance.tf)
# ---------------------------------------------------------------------------------------------

variable "maintenance_schedule" {
  description = "EventBridge schedule on which the API function is invoked to delete expired daily salts even when no visitor comes: a salt must be gone 48 h after its day began (midnight UTC), and DynamoDB's TTL alone may take days. A salt outlives its 48 h until the first run after midnight UTC: the default, a minute past every hour (UTC; 730 invocations a month), deletes it at 00:01, a minute late; a rate(...) schedule counts from when the rule was created, so \"rate(1 hour)\" may leave it up to an hour. A rate(...) or cron(...) expression, e.g. \"cron(1 * * * ? *)\" (default) or \"rate(15 minutes)\"."
  type        = string
  default     = "cron(1 * * * ? *)"

  validation {
    condition     = (startswith(var.maintenance_schedule, "rate(") || startswith(var.maintenance_schedule, "cron(")) && endswith(var.maintenance_schedule, ")")
    error_message = "maintenance_schedule must be an EventBridge schedule expression: rate(...) or cron(...), e.g. \"cron(1 * * * ? *)\"."
  }
}

# ---------------------------------------------------------------------------------------------
# Statistics aggregates: the table's stream → the "<name>-aggregates" function (aggregates.tf)
# ---------------------------------------------------------------------------------------------

variable "aggregates_batch_size" {
  description = "Most stream records per invocation of the aggregates function (1-10000). Bigger batches fold more visits into each aggregate write (fewer write units and invocations per visit) but take longer to run, and a failing batch is bisected and retried as a whole."
  type        = number
  default     = 100

  validation {
    condition     = var.aggregates_batch_size >= 1 && var.aggregates_batch_size <= 10000 && floor(var.aggregates_batch_size) == var.aggregates_batch_size
    error_message = "aggregates_batch_size must be a whole number from 1 to 10000 (the most a DynamoDB stream event source takes)."
  }
}

variable "aggregates_batching_window_s" {
  description = "Seconds Lambda may wait to fill a batch before invoking the aggregates function (0-300). Longer means fuller batches (fewer write units and invocations per visit) and statistics that lag further behind the visits; 0 invokes as soon as records arrive."
  type        = number
  default     = 5

  validation {
    condition     = var.aggregates_batching_window_s >= 0 && var.aggregates_batching_window_s <= 300 && floor(var.aggregates_batching_window_s) == var.aggregates_batching_window_s
    error_message = "aggregates_batching_window_s must be a whole number from 0 to 300."
  }
}

variable "aggregates_max_retries" {
  description = "Retries of a failed batch before Lambda gives up on it and sends its description to the failure queue (-1: retry until the records expire from the stream, 24 h). More rides out longer outages; but the shard's later records wait (statistics stall) while a batch is retried."
  type        = number
  default     = 10

  validation {
    condition     = var.aggregates_max_retries >= -1 && var.aggregates_max_retries <= 10000 && floor(var.aggregates_max_retries) == var.aggregates_max_retries
    error_message = "aggregates_max_retries must be -1 (until the records expire) or a whole number from 0 to 10000."
  }
}

variable "aggregates_max_record_age_s" {
  description = "Records older than this many seconds are given up on (sent to the failure queue) instead of processed: -1 (never; the stream keeps records 24 h) or 60-604800. Longer lets the statistics catch up after a long outage; shorter bounds how stale a batch may get before it is set aside."
  type        = number
  default     = 86400

  validation {
    condition     = var.aggregates_max_record_age_s == -1 || (var.aggregates_max_record_age_s >= 60 && var.aggregates_max_record_age_s <= 604800 && floor(var.aggregates_max_record_age_s) == var.aggregates_max_record_age_s)
    error_message = "aggregates_max_record_age_s must be -1 or a whole number from 60 to 604800."
  }
}

variable "aggregates_timeout_s" {
  description = "Timeout of the aggregates function in seconds (1-900). It must cover the slowest batch of aggregates_batch_size records; a batch that times out is bisected and retried."
  type        = number
  default     = 60

  validation {
    condition     = var.aggregates_timeout_s >= 1 && var.aggregates_timeout_s <= 900 && floor(var.aggregates_timeout_s) == var.aggregates_timeout_s
    error_message = "aggregates_timeout_s must be a whole number from 1 to 900 (Lambda's maximum)."
  }
}

variable "aggregates_iterator_age_alarm_s" {
  description = "The stream-lag alarm fires when the aggregates function's IteratorAge (age of the last record it read) exceeds this many seconds over 5 minutes: the statistics are that far behind the visits. Records leave the stream after 24 h."
  type        = number
  default     = 300

  validation {
    condition     = var.aggregates_iterator_age_alarm_s >= 1 && var.aggregates_iterator_age_alarm_s <= 86400 && floor(var.aggregates_iterator_age_alarm_s) == var.aggregates_iterator_age_alarm_s
    error_message = "aggregates_iterator_age_alarm_s must be a whole number from 1 to 86400 (the stream's retention)."
  }
}

# ---------------------------------------------------------------------------------------------
# DynamoDB
# ---------------------------------------------------------------------------------------------

variable "table_name" {
  description = "DynamoDB table name; null means \"<name>-visits\"."
  type        = string
  default     = null

  validation {
    condition     = var.table_name == null || can(regex("^[A-Za-z0-9_.-]{3,255}$", var.table_name))
    error_message = "table_name must be 3-255 characters of letters, digits, '_', '-' and '.'."
  }
}

variable "deletion_protection" {
  description = "DynamoDB deletion protection. Keep it on in production; `terraform destroy` then fails at the table (after deleting the counter items: see docs/aws-deploy.md)."
  type        = bool
  default     = true
}

variable "point_in_time_recovery" {
  description = "DynamoDB point-in-time recovery (35 days of continuous backups)."
  type        = bool
  default     = true
}

variable "table_kms_key_arn" {
  description = "Customer-managed KMS key for the table; null uses the AWS-managed key aws/dynamodb."
  type        = string
  default     = null
}

# ---------------------------------------------------------------------------------------------
# API Gateway
# ---------------------------------------------------------------------------------------------

variable "api_type" {
  description = "\"rest\": API Gateway REST API (the seed's; WAF-capable, execution logs). \"http\": HTTP API (about 70% cheaper per request, no WAF)."
  type        = string
  default     = "rest"

  validation {
    condition     = contains(["rest", "http"], var.api_type)
    error_message = "api_type must be \"rest\" or \"http\"."
  }
}

variable "stage_name" {
  description = "REST API stage name (part of the URL). The HTTP API always uses the $default stage, so paths reach the function without a stage prefix."
  type        = string
  default     = "v1"

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,128}$", var.stage_name))
    error_message = "stage_name must be 1-128 letters, digits, '_' or '-'."
  }
}

variable "throttle_rate_limit" {
  description = "Steady-state request rate (requests/s) the stage lets through before answering 429."
  type        = number
  default     = 20

  validation {
    condition     = var.throttle_rate_limit > 0 && var.throttle_rate_limit <= 10000
    error_message = "throttle_rate_limit must be above 0 and at most 10000 (the account default)."
  }
}

variable "throttle_burst_limit" {
  description = "Burst size (token bucket) of the stage throttle; must not be below throttle_rate_limit."
  type        = number
  default     = 40

  validation {
    condition     = var.throttle_burst_limit >= var.throttle_rate_limit && var.throttle_burst_limit <= 5000 && floor(var.throttle_burst_limit) == var.throttle_burst_limit
    error_message = "throttle_burst_limit must be a whole number, not below throttle_rate_limit, and at most 5000."
  }
}

variable "execution_logging_level" {
  description = "REST API execution logging: OFF, ERROR or INFO. Its log group is created here with log_retention_days."
  type        = string
  default     = "ERROR"

  validation {
    condition     = contains(["OFF", "ERROR", "INFO"], var.execution_logging_level)
    error_message = "execution_logging_level must be OFF, ERROR or INFO."
  }
}

variable "data_trace_enabled" {
  description = "REST API full request/response logging. It writes headers (client addresses among them) to CloudWatch: leave it off outside short debugging sessions."
  type        = bool
  default     = false

  validation {
    condition     = !var.data_trace_enabled || var.execution_logging_level != "OFF"
    error_message = "data_trace_enabled needs execution_logging_level ERROR or INFO."
  }
}

variable "detailed_metrics" {
  description = "Per-route API Gateway metrics (billed as custom CloudWatch metrics). The alarms and the dashboard only need the free stage-level ones."
  type        = bool
  default     = false
}

variable "badge_cache_ttl_s" {
  description = "REST API only: seconds API Gateway may answer GET /counter/{proxy+} (the README badge and page counters) from a stage cache without invoking the function; 0 (default) = no cache. Anything else is never cached (GET /count must record every visit). Costs money whether used or not: the smallest cache cluster (0.5 GB) is billed by the hour, about $0.02/h (about $14.60 for a 730-hour month, us-east-1; check API Gateway pricing), and is not in the free tier. The function already answers with Cache-Control: public, max-age=60 and an ETag, so browsers and image proxies (GitHub's camo) cache badges for free. The HTTP API has no cache: put a CDN (e.g. CloudFront) in front of it instead."
  type        = number
  default     = 0

  validation {
    condition     = var.badge_cache_ttl_s >= 0 && var.badge_cache_ttl_s <= 3600 && floor(var.badge_cache_ttl_s) == var.badge_cache_ttl_s
    error_message = "badge_cache_ttl_s must be a whole number of seconds from 0 (off) to 3600 (API Gateway's maximum)."
  }

  validation {
    condition     = var.badge_cache_ttl_s == 0 || var.api_type == "rest"
    error_message = "badge_cache_ttl_s needs api_type = \"rest\": an HTTP API has no response cache. Put a CDN in front of it instead (docs/aws-deploy.md)."
  }
}

variable "manage_api_gateway_account" {
  description = "Set the region-wide API Gateway CloudWatch Logs role (aws_api_gateway_account), needed by REST API access and execution logs. Turn off if another stack in the account and region already manages it."
  type        = bool
  default     = true
}

# ---------------------------------------------------------------------------------------------
# Custom domain (off by default)
# ---------------------------------------------------------------------------------------------

variable "custom_domain_name" {
  description = "Custom API domain, e.g. api.me.example; null (default) serves only the execute-api URL. Needs route53_zone_id."
  type        = string
  default     = null

  validation {
    condition     = var.custom_domain_name == null || can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.custom_domain_name))
    error_message = "custom_domain_name must be a lower-case DNS name such as api.me.example."
  }
}

variable "route53_zone_id" {
  description = "Route 53 hosted zone that holds custom_domain_name (certificate validation and the alias records)."
  type        = string
  default     = null

  validation {
    condition     = (var.route53_zone_id == null) == (var.custom_domain_name == null)
    error_message = "Set custom_domain_name and route53_zone_id together, or neither."
  }
}

# ---------------------------------------------------------------------------------------------
# WAF (off by default)
# ---------------------------------------------------------------------------------------------

variable "enable_waf" {
  description = "Attach a regional WAF web ACL (AWS common rule set + a per-IP rate rule) to the REST stage. About $6/month plus $0.60 per million requests."
  type        = bool
  default     = false

  validation {
    condition     = !var.enable_waf || var.api_type == "rest"
    error_message = "enable_waf needs api_type = \"rest\": AWS WAF cannot be associated with an HTTP API."
  }
}

variable "waf_rate_limit" {
  description = "Requests one IP address may make in any 5-minute window before WAF blocks it."
  type        = number
  default     = 300

  validation {
    condition     = var.waf_rate_limit >= 10 && var.waf_rate_limit <= 2000000000 && floor(var.waf_rate_limit) == var.waf_rate_limit
    error_message = "waf_rate_limit must be a whole number from 10 to 2000000000."
  }
}

# ---------------------------------------------------------------------------------------------
# Monitoring
# ---------------------------------------------------------------------------------------------

variable "alarm_email" {
  description = "E-mail address subscribed to the alarm topic (AWS sends a confirmation mail); null subscribes nobody."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_email == null || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alarm_email))
    error_message = "alarm_email must be an e-mail address or null."
  }
}

variable "latency_alarm_ms" {
  description = "The p99 latency alarm fires when the API's p99 over 5 minutes exceeds this many milliseconds."
  type        = number
  default     = 1000

  validation {
    condition     = var.latency_alarm_ms > 0
    error_message = "latency_alarm_ms must be above 0."
  }
}
