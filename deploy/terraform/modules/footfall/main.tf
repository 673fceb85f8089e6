# footfall on AWS: API Gateway (REST or HTTP API) → one Lambda function (the C++ footfall binary)
# → one DynamoDB table, whose stream feeds the statistics aggregates through a second function
# (the same binary); CloudWatch logs, alarms and a dashboard; optional WAF and custom domain.
# EventBridge invokes the API function on a schedule to delete expired daily salts.
# Files: dynamodb.tf, lambda.tf, aggregates.tf, maintenance.tf, api_rest.tf, api_http.tf,
# domain.tf, waf.tf, monitoring.tf.

data "aws_region" "current" {}

data "aws_partition" "current" {}

locals {
  is_rest    = var.api_type == "rest"
  is_http    = var.api_type == "http"
  has_domain = var.custom_domain_name != null

  table_name = coalesce(var.table_name, "${var.name}-visits")

  # The routes the handler serves. Each gets GET and OPTIONS (the handler answers the CORS
  # preflight itself); API Gateway answers anything else without invoking the function.
  routes  = ["/count", "/api/count", "/healthz", "/readyz"]
  methods = ["GET", "OPTIONS"]

  # "GET /count" => { method = "GET", path = "/count" }: the key format is the HTTP API route key.
  route_methods = {
    for pair in setproduct(local.routes, local.methods) :
    "${pair[1]} ${pair[0]}" => { method = pair[1], path = pair[0] }
  }

  # Counter item keys: the store reads "total" with one shard, "total#0".."total#N-1" with N.
  # "total" always exists: with shards the store sums it with total#0..N-1, so going from one
  # shard to many keeps the count already there.
  counter_ids = tolist(concat(["total"], [for i in range(var.counter_shards) : "total#${i}" if var.counter_shards > 1]))

  lambda_log_group_name = "/aws/lambda/${var.name}"

  aggregates_function_name  = "${var.name}-aggregates"
  aggregates_log_group_name = "/aws/lambda/${local.aggregates_function_name}"

  tags = merge({ "app" = "footfall" }, var.tags)
}
