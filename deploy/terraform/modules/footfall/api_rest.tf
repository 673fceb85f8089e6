# API Gateway REST API (api_type = "rest"): one resource per route segment, GET and OPTIONS on each
# route, all proxied to the one function; a deployment redeployed whenever the routes change; a
# stage with JSON access logs (no client addresses), throttling and X-Ray.

resource "aws_api_gateway_rest_api" "footfall" {
  count = local.is_rest ? 1 : 0

  name        = var.name
  description = "footfall visitor counter"

  endpoint_configuration {
    types = ["REGIONAL"]
  }

  tags = local.tags
}

locals {
  rest_api_id = local.is_rest ? aws_api_gateway_rest_api.footfall[0].id : null

  # "/api/count" -> segments ["api", "count"]. Routes are at most two segments deep.
  route_segments = { for r in local.routes : r => split("/", trimprefix(r, "/")) }
  rest_top_parts = local.is_rest ? toset([for r, s in local.route_segments : s[0]]) : toset([])
  rest_sub_routes = local.is_rest ? {
    for r, s in local.route_segments : r => s if length(s) == 2
  } : {}
}

resource "aws_api_gateway_resource" "top" {
  for_each = local.rest_top_parts

  rest_api_id = local.rest_api_id
  parent_id   = aws_api_gateway_rest_api.footfall[0].root_resource_id
  path_part   = each.key
}

resource "aws_api_gateway_resource" "sub" {
  for_each = local.rest_sub_routes

  rest_api_id = local.rest_api_id
  parent_id   = aws_api_gateway_resource.top[each.value[0]].id
  path_part   = each.value[1]
}

locals {
  # Route path -> API Gateway resource id.
  rest_resource_ids = merge(
    { for part, res in aws_api_gateway_resource.top : "/${part}" => res.id },
    { for route, res in aws_api_gateway_resource.sub : route => res.id },
  )
}

resource "aws_api_gateway_method" "route" {
  for_each = local.is_rest ? local.route_methods : {}

  rest_api_id   = local.rest_api_id
  resource_id   = local.rest_resource_ids[each.value.path]
  http_method   = each.value.method
  authorization = "NONE"
}

resource "aws_api_gateway_integration" "route" {
  for_each = aws_api_gateway_method.route

  rest_api_id             = local.rest_api_id
  resource_id             = each.value.resource_id
  http_method             = each.value.http_method
  type                    = "AWS_PROXY"
  integration_http_method = "POST"
  uri                     = aws_lambda_function.footfall.invoke_arn
}

resource "aws_api_gateway_deployment" "footfall" {
  count = local.is_rest ? 1 : 0

  rest_api_id = local.rest_api_id
  description = "footfall routes"

  # A deployment is a snapshot: take a new one whenever a route, method or integration changes.
  triggers = {
    redeployment = sha1(jsonencode([
      [for k, v in aws_api_gateway_resource.top : [k, v.id]],
      [for k, v in aws_api_gateway_resource.sub : [k, v.id]],
      [for k, v in aws_api_gateway_method.route : [k, v.id, v.authorization]],
      [for k, v in aws_api_gateway_integration.route : [k, v.id, v.type, v.uri]],
    ]))
  }

  lifecycle {
    create_before_destroy = true
  }

  depends_on = [aws_api_gateway_integration.route]
}

resource "aws_cloudwatch_log_group" "api_access" {
  name              = "/aws/apigateway/${var.name}/access"
  retention_in_days = var.log_retention_days
  tags              = local.tags
}

# API Gateway writes execution logs to this fixed name; creating it here gives it a retention.
resource "aws_cloudwatch_log_group" "api_execution" {
  count = local.is_rest && var.execution_logging_level != "OFF" ? 1 : 0

  name              = "API-Gateway-Execution-Logs_${local.rest_api_id}/${var.stage_name}"
  retention_in_days = var.log_retention_days
  tags              = local.tags
}

locals {
  # One JSON object per request. Deliberately absent: $context.identity.sourceIp, the user agent,
  # the caller and user identities, and the query string (it carries the page path and referrer).
  rest_access_log_format = jsonencode({
    requestId          = "$context.requestId"
    requestTime        = "$context.requestTimeEpoch"
    httpMethod         = "$context.httpMethod"
    resourcePath       = "$context.resourcePath"
    status             = "$context.status"
    responseLength     = "$context.responseLength"
    responseLatency    = "$context.responseLatency"
    integrationLatency = "$context.integrationLatency"
    integrationStatus  = "$context.integrationStatus"
    wafStatus          = "$context.waf.status"
    errorMessage       = "$context.error.message"
    protocol           = "$context.protocol"
  })
}

resource "aws_api_gateway_stage" "footfall" {
  count = local.is_rest ? 1 : 0

  rest_api_id          = local.rest_api_id
  deployment_id        = aws_api_gateway_deployment.footfall[0].id
  stage_name           = var.stage_name
  xray_tracing_enabled = var.xray_tracing

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.api_access.arn
    format          = local.rest_access_log_format
  }

  tags = local.tags

  depends_on = [aws_api_gateway_account.footfall, aws_cloudwatch_log_group.api_execution]
}

resource "aws_api_gateway_method_settings" "all" {
  count = local.is_rest ? 1 : 0

  rest_api_id = local.rest_api_id
  stage_name  = aws_api_gateway_stage.footfall[0].stage_name
  method_path = "*/*"

  settings {
    throttling_rate_limit  = var.throttle_rate_limit
    throttling_burst_limit = var.throttle_burst_limit
    logging_level          = var.execution_logging_level
    data_trace_enabled     = var.data_trace_enabled
    metrics_enabled        = var.detailed_metrics
  }
}

resource "aws_lambda_permission" "rest" {
  count = local.is_rest ? 1 : 0

  statement_id  = "AllowRestApiInvoke"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.footfall.function_name
  principal     = "apigateway.amazonaws.com"
  # <api>/<stage>/<method>/<path>: this API's own stage only.
  source_arn = "${aws_api_gateway_rest_api.footfall[0].execution_arn}/${var.stage_name}/*"
}

# --- Region-wide: the role API Gateway uses to write REST API logs to CloudWatch --------------

resource "aws_iam_role" "apigateway_logs" {
  count = local.is_rest && var.manage_api_gateway_account ? 1 : 0

  name = "${var.name}-apigateway-logs"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "apigateway.amazonaws.com" }
    }]
  })
  tags = local.tags
}

resource "aws_iam_role_policy_attachment" "apigateway_logs" {
  count = local.is_rest && var.manage_api_gateway_account ? 1 : 0

  role       = aws_iam_role.apigateway_logs[0].name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
}

# The setting is one per account and region; destroying this resource leaves it in place
# (reset_on_delete unset), which is harmless and what another stack sharing the region expects.
resource "aws_api_gateway_account" "footfall" {
  count = local.is_rest && var.manage_api_gateway_account ? 1 : 0

  cloudwatch_role_arn = aws_iam_role.apigateway_logs[0].arn

  depends_on = [aws_iam_role_policy_attachment.apigateway_logs]
}
