# API Gateway REST API (api_type = "rest"): one resource per path segment of the routes in
# routes.json (main.tf), each route's path with an ANY method proxied to the one function (which
# answers preflights and wrong methods itself), plus the badge's own GET method for its cache; a
# deployment redeployed whenever a resource, method or integration changes; a stage with JSON
# access logs (no client addresses), throttling, X-Ray and, with badge_cache_ttl_s, a cache for the
# per-page counter only.

resource "aws_api_gateway_rest_api" "footfall" {
  count = local.is_rest ? 1 : 0

  name        = var.name
  description = "footfall visitor counter"

  endpoint_configuration {
    types = ["REGIONAL"]
  }

  tags = local.tags

  lifecycle {
    precondition {
      condition     = local.routes_well_formed && local.routes_methods_valid
      error_message = "routes.json must list absolute paths without empty segments, with \"{proxy+}\" only as the last segment and no other path variable, each with at least one HTTP method."
    }
    precondition {
      condition     = alltrue([for segments in values(local.route_segments) : length(segments) <= local.rest_max_depth])
      error_message = "A path in routes.json is deeper than the ${local.rest_max_depth} levels api_rest.tf creates resources for: add an aws_api_gateway_resource level (copy the deepest one) and raise rest_max_depth."
    }
    precondition {
      condition     = contains(keys(local.route_methods), local.badge_route)
      error_message = "routes.json no longer lists ${local.badge_route}, which badge_cache_ttl_s and the cache key parameters refer to."
    }
  }
}

locals {
  rest_api_id = local.is_rest ? aws_api_gateway_rest_api.footfall[0].id : null

  # A resource can only name its parent by reference, and a resource block cannot refer to its own
  # instances, so each depth is its own block below (level1 under the root, level2 under level1,
  # ...). rest_max_depth is how many there are; a deeper route fails the precondition above.
  rest_max_depth = 4

  # Every prefix of every route is a resource: "/counter/{proxy+}" needs "/counter" and
  # "/counter/{proxy+}". Keyed by path; parent "" is the API's root resource.
  rest_resource_paths = local.is_rest ? merge([
    for p, segments in local.route_segments : {
      for i in range(length(segments)) : "/${join("/", slice(segments, 0, i + 1))}" => {
        depth  = i + 1
        part   = segments[i]
        parent = i == 0 ? "" : "/${join("/", slice(segments, 0, i))}"
      }
    }
  ]...) : {}
  rest_resources_at = {
    for d in range(1, local.rest_max_depth + 1) : d => { for p, r in local.rest_resource_paths : p => r if r.depth == d }
  }
}

resource "aws_api_gateway_resource" "level1" {
  for_each = local.rest_resources_at[1]

  rest_api_id = local.rest_api_id
  parent_id   = aws_api_gateway_rest_api.footfall[0].root_resource_id
  path_part   = each.value.part
}

resource "aws_api_gateway_resource" "level2" {
  for_each = local.rest_resources_at[2]

  rest_api_id = local.rest_api_id
  parent_id   = aws_api_gateway_resource.level1[each.value.parent].id
  path_part   = each.value.part
}

resource "aws_api_gateway_resource" "level3" {
  for_each = local.rest_resources_at[3]

  rest_api_id = local.rest_api_id
  parent_id   = aws_api_gateway_resource.level2[each.value.parent].id
  path_part   = each.value.part
}

resource "aws_api_gateway_resource" "level4" {
  for_each = local.rest_resources_at[4]

  rest_api_id = local.rest_api_id
  parent_id   = aws_api_gateway_resource.level3[each.value.parent].id
  path_part   = each.value.part
}

# Deployments made before the routes came from routes.json had "top" (keyed by segment) and "sub"
# (keyed by path) resources: the same API Gateway resources, so they move instead of being
# destroyed and created again (which API Gateway would refuse: same path under the same parent).
moved {
  from = aws_api_gateway_resource.top["api"]
  to   = aws_api_gateway_resource.level1["/api"]
}
moved {
  from = aws_api_gateway_resource.top["count"]
  to   = aws_api_gateway_resource.level1["/count"]
}
moved {
  from = aws_api_gateway_resource.top["healthz"]
  to   = aws_api_gateway_resource.level1["/healthz"]
}
moved {
  from = aws_api_gateway_resource.top["readyz"]
  to   = aws_api_gateway_resource.level1["/readyz"]
}
moved {
  from = aws_api_gateway_resource.sub["/api/count"]
  to   = aws_api_gateway_resource.level2["/api/count"]
}

locals {
  # The methods API Gateway has: ANY on every route's resource (a request with any method reaches
  # the function, which answers as `footfall serve` does: 204 to a preflight, 405 with Allow to a
  # method it does not serve), and beside it on the badge's resource an explicit GET: a resource's
  # explicit method takes that method's requests and ANY takes the rest, so the cache (method
  # settings "~1counter~1{proxy+}/GET" below) applies to GET /counter/{proxy+} alone and never to
  # its other methods. Keyed "ANY /count", "GET /counter/{proxy+}".
  rest_methods = merge(local.api_routes, {
    (local.badge_route) = { method = split(" ", local.badge_route)[0], path = split(" ", local.badge_route)[1] }
  })

  # Route path -> API Gateway resource id.
  rest_resource_ids = merge(
    { for p, r in aws_api_gateway_resource.level1 : p => r.id },
    { for p, r in aws_api_gateway_resource.level2 : p => r.id },
    { for p, r in aws_api_gateway_resource.level3 : p => r.id },
    { for p, r in aws_api_gateway_resource.level4 : p => r.id },
  )
}

resource "aws_api_gateway_method" "route" {
  for_each = local.is_rest ? local.rest_methods : {}

  rest_api_id   = local.rest_api_id
  resource_id   = local.rest_resource_ids[each.value.path]
  http_method   = each.value.method
  authorization = "NONE"

  # A cache key parameter must be declared on the method (a path parameter is always required;
  # the query string and headers are optional and validated by nothing). Declared whether or not
  # the cache is on, so that turning it on or off changes only the stage.
  request_parameters = each.key == local.badge_route ? {
    for p in local.badge_cache_key_parameters : p => p == "method.request.path.proxy"
  } : null
}

resource "aws_api_gateway_integration" "route" {
  for_each = aws_api_gateway_method.route

  rest_api_id             = local.rest_api_id
  resource_id             = each.value.resource_id
  http_method             = each.value.http_method
  type                    = "AWS_PROXY"
  integration_http_method = "POST"
  uri                     = aws_lambda_function.footfall.invoke_arn
  cache_key_parameters    = each.key == local.badge_route ? local.badge_cache_key_parameters : null
}

resource "aws_api_gateway_deployment" "footfall" {
  count = local.is_rest ? 1 : 0

  rest_api_id = local.rest_api_id
  description = "footfall routes"

  # A deployment is a snapshot: take a new one whenever a route, method or integration changes.
  triggers = {
    redeployment = sha1(jsonencode([
      [for level in [aws_api_gateway_resource.level1, aws_api_gateway_resource.level2, aws_api_gateway_resource.level3, aws_api_gateway_resource.level4] :
        [for k, v in level : [k, v.id, v.parent_id, v.path_part]]
      ],
      # (null and empty read back alike: the provider stores one after create, the other after a
      # refresh, and the snapshot must not be retaken for that.)
      [for k, v in aws_api_gateway_method.route :
        [k, v.id, v.authorization, v.request_parameters == null ? {} : v.request_parameters]
      ],
      [for k, v in aws_api_gateway_integration.route :
        [k, v.id, v.type, v.uri, v.cache_key_parameters == null ? [] : sort(v.cache_key_parameters)]
      ],
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

  # A cache cluster is billed by the hour whether used or not: only with badge_cache_ttl_s.
  cache_cluster_enabled = local.badge_cache
  cache_cluster_size    = local.badge_cache ? "0.5" : null

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.api_access.arn
    format          = local.rest_access_log_format
  }

  tags = local.tags

  depends_on = [aws_api_gateway_account.footfall, aws_cloudwatch_log_group.api_execution]
}

locals {
  # The stage's settings for every method ("*/*"), and the badge's override of them. A method
  # override replaces all of "*/*" for that method (a field it does not set takes API Gateway's
  # default, e.g. logging OFF and no throttle), so the override repeats every field.
  rest_method_settings = {
    throttling_rate_limit  = var.throttle_rate_limit
    throttling_burst_limit = var.throttle_burst_limit
    logging_level          = var.execution_logging_level
    data_trace_enabled     = var.data_trace_enabled
    metrics_enabled        = var.detailed_metrics
  }

  # method_path of a single method: the resource path with every "/" written "~1" (as API
  # Gateway names it in the stage's methodSettings), then "/" and the method.
  badge_method_path = "${replace(split(" ", local.badge_route)[1], "/", "~1")}/${split(" ", local.badge_route)[0]}"
}

resource "aws_api_gateway_method_settings" "all" {
  count = local.is_rest ? 1 : 0

  rest_api_id = local.rest_api_id
  stage_name  = aws_api_gateway_stage.footfall[0].stage_name
  method_path = "*/*"

  settings {
    throttling_rate_limit  = local.rest_method_settings.throttling_rate_limit
    throttling_burst_limit = local.rest_method_settings.throttling_burst_limit
    logging_level          = local.rest_method_settings.logging_level
    data_trace_enabled     = local.rest_method_settings.data_trace_enabled
    metrics_enabled        = local.rest_method_settings.metrics_enabled
    # With a cache cluster, API Gateway caches every GET by default: GET /count would then answer
    # from the cache without recording the visit. Off for every method, ANY included; the badge's
    # own setting below turns it on for the explicit GET /counter/{proxy+} method alone.
    caching_enabled = false
  }
}

resource "aws_api_gateway_method_settings" "badge_cache" {
  count = local.badge_cache ? 1 : 0

  rest_api_id = local.rest_api_id
  stage_name  = aws_api_gateway_stage.footfall[0].stage_name
  method_path = local.badge_method_path

  settings {
    throttling_rate_limit  = local.rest_method_settings.throttling_rate_limit
    throttling_burst_limit = local.rest_method_settings.throttling_burst_limit
    logging_level          = local.rest_method_settings.logging_level
    data_trace_enabled     = local.rest_method_settings.data_trace_enabled
    metrics_enabled        = local.rest_method_settings.metrics_enabled

    caching_enabled      = true
    cache_ttl_in_seconds = var.badge_cache_ttl_s
    cache_data_encrypted = true
    # "Cache-Control: max-age=0" from an anonymous client does not flush the entry; it is
    # answered (from the cache) as any other request, not refused: browsers send that header
    # when a page is reloaded.
    require_authorization_for_cache_control    = true
    unauthorized_cache_control_header_strategy = "SUCCEED_WITHOUT_RESPONSE_HEADER"
  }

  # Both patch the same stage: one at a time.
  depends_on = [aws_api_gateway_method_settings.all]
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
