# footfall against a local AWS emulator (moto_server), used by tests/terraform: every service the
# module touches is sent to var.endpoint with dummy credentials, and nothing reaches AWS.
#   moto_server -H 127.0.0.1 -p 5055 &   # with MOTO_IAM_LOAD_MANAGED_POLICIES=true
#   terraform apply -var endpoint=http://127.0.0.1:5055 -var lambda_zip_path=/path/to.zip

terraform {
  required_version = ">= 1.9.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }
}

provider "aws" {
  region     = "us-east-1"
  access_key = "testing"
  secret_key = "testing"

  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  # An emulator answers some calls with errors the provider would otherwise retry for minutes
  # (25 attempts by default), so fewer; but not 2: moto's threaded server sometimes drops a
  # keep-alive connection under a waiter's poll, and two such drops in a row failed a CI run's
  # destroy ("waiting for SQS Queue ... delete: ... exceeded maximum number of attempts, 2 ...
  # use of closed network connection", 2026-12-05).
  max_retries = 5

  endpoints {
    acm            = var.endpoint
    apigateway     = var.endpoint
    apigatewayv2   = var.endpoint
    cloudwatch     = var.endpoint
    cloudwatchlogs = var.endpoint
    dynamodb       = var.endpoint
    events         = var.endpoint
    iam            = var.endpoint
    kms            = var.endpoint
    lambda         = var.endpoint
    route53        = var.endpoint
    sns            = var.endpoint
    sqs            = var.endpoint
    ssm            = var.endpoint
    sts            = var.endpoint
    wafv2          = var.endpoint
  }
}

module "footfall" {
  source = "../../modules/footfall"

  name                = var.name
  lambda_zip_path     = var.lambda_zip_path
  allowed_origins     = ["https://me.example", "https://www.me.example"]
  api_type            = var.api_type
  counter_shards      = var.counter_shards
  deletion_protection = false
  enable_waf          = var.enable_waf
  alarm_email         = var.alarm_email
  custom_domain_name  = var.custom_domain_name
  route53_zone_id     = var.route53_zone_id

  maintenance_schedule = var.maintenance_schedule

  stats_token_parameter_name = var.stats_token_parameter_name
  stats_token_version        = var.stats_token_version
  stats_public               = var.stats_public
  badge_cache_ttl_s          = var.badge_cache_ttl_s

  throttle_rate_limit  = 25
  throttle_burst_limit = 50
  log_retention_days   = 14

  lambda_reserved_concurrency = 5
}
