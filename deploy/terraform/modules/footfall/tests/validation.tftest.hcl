# Every input validation rejects what it should. Plans only, against a mock provider.

mock_provider "aws" {
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
}

variables {
  name            = "footfall-test"
  allowed_origins = ["https://me.example"]
}

run "accepts_the_defaults" {
  command = plan
}

run "burst_below_rate" {
  command = plan
  variables {
    throttle_rate_limit  = 50
    throttle_burst_limit = 10
  }
  expect_failures = [var.throttle_burst_limit]
}

run "burst_equal_to_rate_is_fine" {
  command = plan
  variables {
    throttle_rate_limit  = 50
    throttle_burst_limit = 50
  }
}

run "waf_on_http_api" {
  command = plan
  variables {
    api_type   = "http"
    enable_waf = true
  }
  expect_failures = [var.enable_waf]
}

run "domain_without_zone" {
  command = plan
  variables {
    custom_domain_name = "api.me.example"
  }
  expect_failures = [var.route53_zone_id]
}

run "zone_without_domain" {
  command = plan
  variables {
    route53_zone_id = "Z123"
  }
  expect_failures = [var.route53_zone_id]
}

run "origin_with_trailing_slash" {
  command = plan
  variables {
    allowed_origins = ["https://me.example/"]
  }
  expect_failures = [var.allowed_origins]
}

run "origin_list_with_comma" {
  command = plan
  variables {
    allowed_origins = ["https://a.example,https://b.example"]
  }
  expect_failures = [var.allowed_origins]
}

run "no_origin" {
  command = plan
  variables {
    allowed_origins = []
  }
  expect_failures = [var.allowed_origins]
}

run "zero_shards" {
  command = plan
  variables {
    counter_shards = 0
  }
  expect_failures = [var.counter_shards]
}

run "fractional_shards" {
  command = plan
  variables {
    counter_shards = 1.5
  }
  expect_failures = [var.counter_shards]
}

run "unknown_architecture" {
  command = plan
  variables {
    lambda_architecture = "aarch64"
  }
  expect_failures = [var.lambda_architecture]
}

run "timeout_beyond_api_gateway" {
  command = plan
  variables {
    lambda_timeout_s = 30
  }
  expect_failures = [var.lambda_timeout_s]
}

run "reserved_concurrency_below_minus_one" {
  command = plan
  variables {
    lambda_reserved_concurrency = -2
  }
  expect_failures = [var.lambda_reserved_concurrency]
}

run "log_retention_not_offered_by_cloudwatch" {
  command = plan
  variables {
    log_retention_days = 10
  }
  expect_failures = [var.log_retention_days]
}

run "data_trace_without_execution_logs" {
  command = plan
  variables {
    execution_logging_level = "OFF"
    data_trace_enabled      = true
  }
  expect_failures = [var.data_trace_enabled]
}

run "unknown_api_type" {
  command = plan
  variables {
    api_type = "websocket"
  }
  expect_failures = [var.api_type]
}

run "goals_the_binary_refuses" {
  command = plan
  variables {
    goals = "event:signup,signup"
  }
  expect_failures = [var.goals]
}

run "max_distinct_values_out_of_range" {
  command = plan
  variables {
    max_distinct_values = 0
  }
  expect_failures = [var.max_distinct_values]
}

run "log_level_the_binary_refuses" {
  command = plan
  variables {
    log_level = "debug"
  }
  expect_failures = [var.log_level]
}

run "bad_name" {
  command = plan
  variables {
    name = "Footfall_Prod"
  }
  expect_failures = [var.name]
}

run "zip_path_not_a_zip" {
  command = plan
  variables {
    lambda_zip_path = "build/footfall"
  }
  expect_failures = [var.lambda_zip_path]
}

run "waf_rate_limit_too_low" {
  command = plan
  variables {
    waf_rate_limit = 5
  }
  expect_failures = [var.waf_rate_limit]
}

run "bad_alarm_email" {
  command = plan
  variables {
    alarm_email = "not-an-address"
  }
  expect_failures = [var.alarm_email]
}

# The stream → aggregates function mapping: Lambda's limits for a DynamoDB stream source.
run "aggregates_limits_are_accepted" {
  command = plan
  variables {
    aggregates_batch_size           = 10000
    aggregates_batching_window_s    = 300
    aggregates_max_retries          = 10000
    aggregates_max_record_age_s     = 604800
    aggregates_timeout_s            = 900
    aggregates_iterator_age_alarm_s = 86400
  }
}

run "aggregates_lower_limits_are_accepted" {
  command = plan
  variables {
    aggregates_batch_size           = 1
    aggregates_batching_window_s    = 0
    aggregates_max_retries          = -1
    aggregates_max_record_age_s     = 60
    aggregates_timeout_s            = 1
    aggregates_iterator_age_alarm_s = 1
  }
}

run "aggregates_record_age_unlimited_is_fine" {
  command = plan
  variables {
    aggregates_max_record_age_s = -1
  }
}

run "aggregates_batch_size_zero" {
  command = plan
  variables {
    aggregates_batch_size = 0
  }
  expect_failures = [var.aggregates_batch_size]
}

run "aggregates_batch_size_above_stream_maximum" {
  command = plan
  variables {
    aggregates_batch_size = 10001
  }
  expect_failures = [var.aggregates_batch_size]
}

run "aggregates_batch_size_fractional" {
  command = plan
  variables {
    aggregates_batch_size = 2.5
  }
  expect_failures = [var.aggregates_batch_size]
}

run "aggregates_batching_window_negative" {
  command = plan
  variables {
    aggregates_batching_window_s = -1
  }
  expect_failures = [var.aggregates_batching_window_s]
}

run "aggregates_batching_window_above_300" {
  command = plan
  variables {
    aggregates_batching_window_s = 301
  }
  expect_failures = [var.aggregates_batching_window_s]
}

run "aggregates_retries_below_minus_one" {
  command = plan
  variables {
    aggregates_max_retries = -2
  }
  expect_failures = [var.aggregates_max_retries]
}

run "aggregates_retries_above_10000" {
  command = plan
  variables {
    aggregates_max_retries = 10001
  }
  expect_failures = [var.aggregates_max_retries]
}

run "aggregates_record_age_zero" {
  command = plan
  variables {
    aggregates_max_record_age_s = 0
  }
  expect_failures = [var.aggregates_max_record_age_s]
}

run "aggregates_record_age_below_60" {
  command = plan
  variables {
    aggregates_max_record_age_s = 59
  }
  expect_failures = [var.aggregates_max_record_age_s]
}

run "aggregates_record_age_above_a_week" {
  command = plan
  variables {
    aggregates_max_record_age_s = 604801
  }
  expect_failures = [var.aggregates_max_record_age_s]
}

run "aggregates_record_age_below_minus_one" {
  command = plan
  variables {
    aggregates_max_record_age_s = -2
  }
  expect_failures = [var.aggregates_max_record_age_s]
}

run "aggregates_timeout_zero" {
  command = plan
  variables {
    aggregates_timeout_s = 0
  }
  expect_failures = [var.aggregates_timeout_s]
}

run "aggregates_timeout_beyond_lambda_maximum" {
  command = plan
  variables {
    aggregates_timeout_s = 901
  }
  expect_failures = [var.aggregates_timeout_s]
}

run "aggregates_iterator_age_alarm_zero" {
  command = plan
  variables {
    aggregates_iterator_age_alarm_s = 0
  }
  expect_failures = [var.aggregates_iterator_age_alarm_s]
}

run "aggregates_iterator_age_alarm_beyond_stream_retention" {
  command = plan
  variables {
    aggregates_iterator_age_alarm_s = 86401
  }
  expect_failures = [var.aggregates_iterator_age_alarm_s]
}

# The maintenance schedule: an EventBridge schedule expression, rate(...) or cron(...).
run "maintenance_rate_is_accepted" {
  command = plan
  variables {
    maintenance_schedule = "rate(15 minutes)"
  }
}

run "maintenance_cron_is_accepted" {
  command = plan
  variables {
    maintenance_schedule = "cron(5 * * * ? *)"
  }
}

run "maintenance_schedule_in_plain_words" {
  command = plan
  variables {
    maintenance_schedule = "every hour"
  }
  expect_failures = [var.maintenance_schedule]
}

run "maintenance_schedule_empty" {
  command = plan
  variables {
    maintenance_schedule = ""
  }
  expect_failures = [var.maintenance_schedule]
}

run "maintenance_schedule_unclosed" {
  command = plan
  variables {
    maintenance_schedule = "rate(1 hour"
  }
  expect_failures = [var.maintenance_schedule]
}

run "maintenance_schedule_upper_case" {
  command = plan
  variables {
    maintenance_schedule = "RATE(1 hour)"
  }
  expect_failures = [var.maintenance_schedule]
}

run "maintenance_schedule_as_crontab_line" {
  command = plan
  variables {
    maintenance_schedule = "0 * * * *"
  }
  expect_failures = [var.maintenance_schedule]
}

# Statistics token in SSM and the badge cache.

run "badge_cache_limits_are_accepted" {
  command = plan
  variables {
    badge_cache_ttl_s = 3600
  }
}

run "badge_cache_one_second_is_accepted" {
  command = plan
  variables {
    badge_cache_ttl_s = 1
  }
}

run "badge_cache_negative" {
  command = plan
  variables {
    badge_cache_ttl_s = -1
  }
  expect_failures = [var.badge_cache_ttl_s]
}

run "badge_cache_above_api_gateway_maximum" {
  command = plan
  variables {
    badge_cache_ttl_s = 3601
  }
  expect_failures = [var.badge_cache_ttl_s]
}

run "badge_cache_fractional" {
  command = plan
  variables {
    badge_cache_ttl_s = 1.5
  }
  expect_failures = [var.badge_cache_ttl_s]
}

run "badge_cache_on_http_api" {
  command = plan
  variables {
    api_type          = "http"
    badge_cache_ttl_s = 60
  }
  expect_failures = [var.badge_cache_ttl_s]
}

run "badge_cache_off_on_http_api_is_fine" {
  command = plan
  variables {
    api_type          = "http"
    badge_cache_ttl_s = 0
  }
}

run "stats_token_path_is_accepted" {
  command = plan
  variables {
    stats_token_parameter_name = "/footfall/prod/stats-token"
  }
}

run "stats_token_plain_name_is_accepted" {
  command = plan
  variables {
    stats_token_parameter_name = "footfall.stats_token-1"
  }
}

run "stats_token_with_customer_key_is_accepted" {
  command = plan
  variables {
    stats_token_parameter_name = "/footfall/token"
    stats_token_kms_key_arn    = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  }
}

run "stats_token_version_is_accepted" {
  command = plan
  variables {
    stats_token_parameter_name = "/footfall/token"
    stats_token_version        = "2026-12-05.3"
  }
}

run "stats_public_is_accepted" {
  command = plan
  variables {
    stats_public = true
  }
}

run "stats_token_reserved_prefix_aws" {
  command = plan
  variables {
    stats_token_parameter_name = "/aws/reference/secretsmanager/x"
  }
  expect_failures = [var.stats_token_parameter_name]
}

run "stats_token_reserved_prefix_ssm_any_case" {
  command = plan
  variables {
    stats_token_parameter_name = "SSM-token"
  }
  expect_failures = [var.stats_token_parameter_name]
}

run "stats_token_empty_segment" {
  command = plan
  variables {
    stats_token_parameter_name = "/footfall//token"
  }
  expect_failures = [var.stats_token_parameter_name]
}

run "stats_token_trailing_slash" {
  command = plan
  variables {
    stats_token_parameter_name = "/footfall/token/"
  }
  expect_failures = [var.stats_token_parameter_name]
}

run "stats_token_path_without_leading_slash" {
  command = plan
  variables {
    stats_token_parameter_name = "footfall/token"
  }
  expect_failures = [var.stats_token_parameter_name]
}

run "stats_token_with_space" {
  command = plan
  variables {
    stats_token_parameter_name = "footfall token"
  }
  expect_failures = [var.stats_token_parameter_name]
}

run "stats_token_empty" {
  command = plan
  variables {
    stats_token_parameter_name = ""
  }
  expect_failures = [var.stats_token_parameter_name]
}

run "stats_token_given_as_arn" {
  command = plan
  variables {
    stats_token_parameter_name = "arn:aws:ssm:eu-west-1:123456789012:parameter/footfall/token"
  }
  expect_failures = [var.stats_token_parameter_name]
}

run "stats_token_key_as_alias" {
  command = plan
  variables {
    stats_token_parameter_name = "/footfall/token"
    stats_token_kms_key_arn    = "alias/aws/ssm"
  }
  expect_failures = [var.stats_token_kms_key_arn]
}

run "stats_token_key_without_parameter" {
  command = plan
  variables {
    stats_token_kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  }
  expect_failures = [var.stats_token_kms_key_arn]
}

run "stats_token_version_empty" {
  command = plan
  variables {
    stats_token_version = ""
  }
  expect_failures = [var.stats_token_version]
}

run "stats_token_version_with_space" {
  command = plan
  variables {
    stats_token_version = "v 2"
  }
  expect_failures = [var.stats_token_version]
}
