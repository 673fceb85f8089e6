# footfall on a real AWS account. See docs/aws-deploy.md for the step-by-step guide:
#   terraform init && terraform plan -out=footfall.tfplan && terraform apply footfall.tfplan
# State is local unless a backend is added (the GitHub workflow adds an S3 backend through a
# backend_override.tf file it writes before `terraform init`).

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
  region = var.region

  default_tags {
    tags = {
      project     = "footfall"
      environment = var.environment
      managed-by  = "terraform"
    }
  }
}

module "footfall" {
  source = "../../modules/footfall"

  name            = "footfall-${var.environment}"
  lambda_zip_path = var.lambda_zip_path
  allowed_origins = var.allowed_origins
  api_type        = var.api_type

  lambda_architecture  = var.lambda_architecture
  throttle_rate_limit  = var.throttle_rate_limit
  throttle_burst_limit = var.throttle_burst_limit
  deletion_protection  = var.deletion_protection
  enable_waf           = var.enable_waf
  xray_tracing         = var.xray_tracing
  alarm_email          = var.alarm_email
  custom_domain_name   = var.custom_domain_name
  route53_zone_id      = var.route53_zone_id

  stats_token_parameter_name = var.stats_token_parameter_name
  stats_token_version        = var.stats_token_version
  stats_public               = var.stats_public
  goals                      = var.goals
  badge_cache_ttl_s          = var.badge_cache_ttl_s
}
