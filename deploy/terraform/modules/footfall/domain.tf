# Optional custom domain (custom_domain_name + route53_zone_id): an ACM certificate validated by
# DNS in the given zone, a regional API Gateway domain name mapped to the stage, and an A alias
# record. Off by default.

resource "aws_acm_certificate" "api" {
  count = local.has_domain ? 1 : 0

  domain_name       = var.custom_domain_name
  validation_method = "DNS"
  tags              = local.tags

  lifecycle {
    create_before_destroy = true
  }
}

locals {
  # One name, no SANs: the certificate has exactly one DNS validation record.
  certificate_validation = local.has_domain ? one(aws_acm_certificate.api[0].domain_validation_options) : null
}

resource "aws_route53_record" "certificate_validation" {
  count = local.has_domain ? 1 : 0

  zone_id         = var.route53_zone_id
  name            = local.certificate_validation.resource_record_name
  type            = local.certificate_validation.resource_record_type
  records         = [local.certificate_validation.resource_record_value]
  ttl             = 300
  allow_overwrite = true
}

resource "aws_acm_certificate_validation" "api" {
  count = local.has_domain ? 1 : 0

  certificate_arn         = aws_acm_certificate.api[0].arn
  validation_record_fqdns = [aws_route53_record.certificate_validation[0].fqdn]
}

resource "aws_api_gateway_domain_name" "api" {
  count = local.has_domain && local.is_rest ? 1 : 0

  domain_name              = var.custom_domain_name
  regional_certificate_arn = aws_acm_certificate_validation.api[0].certificate_arn
  security_policy          = "TLS_1_2"

  endpoint_configuration {
    types = ["REGIONAL"]
  }

  tags = local.tags
}

resource "aws_api_gateway_base_path_mapping" "api" {
  count = local.has_domain && local.is_rest ? 1 : 0

  api_id      = local.rest_api_id
  stage_name  = aws_api_gateway_stage.footfall[0].stage_name
  domain_name = aws_api_gateway_domain_name.api[0].domain_name
}

resource "aws_apigatewayv2_domain_name" "api" {
  count = local.has_domain && local.is_http ? 1 : 0

  domain_name = var.custom_domain_name

  domain_name_configuration {
    certificate_arn = aws_acm_certificate_validation.api[0].certificate_arn
    endpoint_type   = "REGIONAL"
    security_policy = "TLS_1_2"
  }

  tags = local.tags
}

resource "aws_apigatewayv2_api_mapping" "api" {
  count = local.has_domain && local.is_http ? 1 : 0

  api_id      = aws_apigatewayv2_api.footfall[0].id
  domain_name = aws_apigatewayv2_domain_name.api[0].id
  stage       = aws_apigatewayv2_stage.footfall[0].id
}

locals {
  # The regional endpoint the alias records point at, whichever API type serves the domain.
  domain_target = !local.has_domain ? null : (local.is_rest ? {
    name    = aws_api_gateway_domain_name.api[0].regional_domain_name
    zone_id = aws_api_gateway_domain_name.api[0].regional_zone_id
    } : {
    name    = aws_apigatewayv2_domain_name.api[0].domain_name_configuration[0].target_domain_name
    zone_id = aws_apigatewayv2_domain_name.api[0].domain_name_configuration[0].hosted_zone_id
  })
}

# IPv4 only: regional API Gateway endpoints answer on IPv4 unless made dual-stack.
resource "aws_route53_record" "api_alias" {
  count = local.has_domain ? 1 : 0

  zone_id = var.route53_zone_id
  name    = var.custom_domain_name
  type    = "A"

  alias {
    name                   = local.domain_target.name
    zone_id                = local.domain_target.zone_id
    evaluate_target_health = false
  }
}
