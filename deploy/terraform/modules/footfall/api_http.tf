# API Gateway HTTP API (api_type = "http"): the same routes (routes.json, main.tf), one "ANY" route
# per path ("ANY /counter/{proxy+}": HTTP APIs take the greedy variable too), so that every method
# reaches the function, which answers preflights and wrong methods (405 with Allow) as `footfall
# serve` does; proxied with payload format 2.0 to the same function; the $default stage (so the
# function sees "/count", not "/<stage>/count") with JSON access logs without client addresses and
# route throttling. API Gateway's built-in CORS is deliberately not configured: it would answer
# preflights and rewrite CORS headers itself, and the handler is the one place that decides which
# origins are allowed. HTTP APIs have no response cache (badge_cache_ttl_s is REST only): put a
# CDN in front instead.

resource "aws_apigatewayv2_api" "footfall" {
  count = local.is_http ? 1 : 0

  name          = var.name
  description   = "footfall visitor counter"
  protocol_type = "HTTP"
  tags          = local.tags

  lifecycle {
    precondition {
      condition     = local.routes_well_formed && local.routes_methods_valid
      error_message = "routes.json must list absolute paths without empty segments, with \"{proxy+}\" only as the last segment and no other path variable, each with at least one HTTP method."
    }
  }
}

resource "aws_apigatewayv2_integration" "footfall" {
  count = local.is_http ? 1 : 0

  api_id                 = aws_apigatewayv2_api.footfall[0].id
  integration_type       = "AWS_PROXY"
  integration_method     = "POST"
  integration_uri        = aws_lambda_function.footfall.invoke_arn
  payload_format_version = "2.0"
}

resource "aws_apigatewayv2_route" "route" {
  for_each = local.is_http ? local.api_routes : {}

  api_id             = aws_apigatewayv2_api.footfall[0].id
  route_key          = each.key
  target             = "integrations/${aws_apigatewayv2_integration.footfall[0].id}"
  authorization_type = "NONE" # the handler checks the statistics token itself
}

locals {
  # Same rule as the REST format: no sourceIp, no user agent, no query string.
  http_access_log_format = jsonencode({
    requestId          = "$context.requestId"
    requestTime        = "$context.requestTimeEpoch"
    httpMethod         = "$context.httpMethod"
    routeKey           = "$context.routeKey"
    status             = "$context.status"
    responseLength     = "$context.responseLength"
    responseLatency    = "$context.responseLatency"
    integrationLatency = "$context.integrationLatency"
    integrationStatus  = "$context.integrationStatus"
    errorMessage       = "$context.error.message"
    protocol           = "$context.protocol"
  })
}

resource "aws_apigatewayv2_stage" "footfall" {
  count = local.is_http ? 1 : 0

  api_id      = aws_apigatewayv2_api.footfall[0].id
  name        = "$default"
  auto_deploy = true

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.api_access.arn
    format          = local.http_access_log_format
  }

  default_route_settings {
    throttling_rate_limit    = var.throttle_rate_limit
    throttling_burst_limit   = var.throttle_burst_limit
    detailed_metrics_enabled = var.detailed_metrics
  }

  tags = local.tags

  # auto_deploy deploys on every route change, but only routes that exist when it runs.
  depends_on = [aws_apigatewayv2_route.route]
}

resource "aws_lambda_permission" "http" {
  count = local.is_http ? 1 : 0

  statement_id  = "AllowHttpApiInvoke"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.footfall.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.footfall[0].execution_arn}/*"
}
