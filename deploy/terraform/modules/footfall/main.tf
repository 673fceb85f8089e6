# footfall on AWS: API Gateway (REST or HTTP API) → one Lambda function (the C++ footfall binary)
# → one DynamoDB table, whose stream feeds the statistics aggregates through a second function
# (the same binary); CloudWatch logs, alarms and a dashboard; optional WAF and custom domain.
# EventBridge invokes the API function on a schedule to delete expired daily salts.
# Every route in routes.json reaches the API function through either API type.
# Files: dynamodb.tf, lambda.tf, stats_token.tf, aggregates.tf, maintenance.tf, api_rest.tf,
# api_http.tf, domain.tf, waf.tf, monitoring.tf; routes.json (the output of `footfall routes`).

data "aws_region" "current" {}

data "aws_partition" "current" {}

locals {
  is_rest    = var.api_type == "rest"
  is_http    = var.api_type == "http"
  has_domain = var.custom_domain_name != null

  table_name = coalesce(var.table_name, "${var.name}-visits")

  # The routes the handler serves, from ONE list: routes.json is the output of `footfall routes`
  # (src/core/service.cc's route table; a ctest keeps them equal). A path may end in a greedy
  # "{proxy+}" segment. Every method of each path reaches the function (api_routes), which answers
  # the CORS preflight (OPTIONS) and a method it does not serve (405 with Allow) itself, exactly as
  # `footfall serve` does; API Gateway answers only paths that are not in the list.
  route_list = jsondecode(file("${path.module}/routes.json")).routes
  routes     = { for r in local.route_list : r.path => r.methods }

  # "GET /count" => { method = "GET", path = "/count" }: what the handler answers (the methods of
  # routes.json), for the checks below and the badge's cache.
  route_methods = merge([
    for r in local.route_list : { for m in r.methods : "${m} ${r.path}" => { method = m, path = r.path } }
  ]...)

  # "ANY /count" => { method = "ANY", path = "/count" }: what API Gateway routes to the function,
  # one catch-all method per path (the key format is the HTTP API route key).
  api_routes = { for p in keys(local.routes) : "ANY ${p}" => { method = "ANY", path = p } }

  # "/api/count" -> ["api", "count"].
  route_segments = { for p in keys(local.routes) : p => split("/", trimprefix(p, "/")) }

  # Checked by preconditions on both API types (api_rest.tf, api_http.tf).
  routes_well_formed = length(local.route_list) > 0 && alltrue([
    for p, segments in local.route_segments :
    startswith(p, "/") && alltrue([for s in segments : s != ""]) &&
    alltrue([for i, s in segments : !strcontains(s, "{") || (s == "{proxy+}" && i == length(segments) - 1)])
  ])
  routes_methods_valid = alltrue([
    for r in local.route_list : length(r.methods) > 0 && alltrue([
      for m in r.methods : contains(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"], m)
    ])
  ])

  # The one answer worth caching (badge_cache_ttl_s, REST only): the per-page counter, e.g. the
  # README badge /counter/<path>.svg. Its answer depends on the page path, the `site` query
  # parameter (src/core/service.cc HandleCounter; the badge has no other parameter), the Origin
  # header (CORS headers, "Vary: Origin") and If-None-Match (a 304 must only ever be served to a
  # client that sent the same ETag): all four are the cache key. On the REST API it is a method of
  # its own beside the resource's ANY (api_rest.tf), so that only its GETs are cached.
  badge_route = "GET /counter/{proxy+}"
  badge_cache_key_parameters = [
    "method.request.path.proxy",
    "method.request.querystring.site",
    "method.request.header.Origin",
    "method.request.header.If-None-Match",
  ]
  badge_cache = local.is_rest && var.badge_cache_ttl_s > 0

  # Statistics token (stats_token_parameter_name): an SSM SecureString the user creates; the
  # module only names it and lets the function read it.
  has_stats_token = var.stats_token_parameter_name != null

  # Counter item keys: the store reads "total" with one shard, "total#0".."total#N-1" with N.
  # "total" always exists: with shards the store sums it with total#0..N-1, so going from one
  # shard to many keeps the count already there.
  counter_ids = tolist(concat(["total"], [for i in range(var.counter_shards) : "total#${i}" if var.counter_shards > 1]))

  lambda_log_group_name = "/aws/lambda/${var.name}"

  aggregates_function_name  = "${var.name}-aggregates"
  aggregates_log_group_name = "/aws/lambda/${local.aggregates_function_name}"

  tags = merge({ "app" = "footfall" }, var.tags)
}
