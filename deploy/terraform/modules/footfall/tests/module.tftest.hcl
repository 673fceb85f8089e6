# Plan/apply the module against a mock AWS provider (no network, no emulator) and check its logic:
# toggles, least-privilege policies, privacy of the access logs, counter items, the stream and the
# aggregates function it feeds, the maintenance schedule, alarms, dashboard.
# Run from the module directory (tests/terraform/tf_suite.py does this for ctest):
#   terraform init && terraform test -var lambda_zip_path=/any/file.zip

mock_provider "aws" {
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:eu-west-1:123456789012:key/0000aaaa-aws-ssm-mock" }
  }
  mock_resource "aws_dynamodb_table" {
    defaults = {
      arn        = "arn:aws:dynamodb:eu-west-1:123456789012:table/footfall-test-visits"
      stream_arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/footfall-test-visits/stream/2026-01-01T00:00:00.000"
    }
  }
  mock_resource "aws_sqs_queue" {
    defaults = {
      arn = "arn:aws:sqs:eu-west-1:123456789012:footfall-test-aggregates-failures"
      url = "https://sqs.eu-west-1.amazonaws.com/123456789012/footfall-test-aggregates-failures"
    }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/footfall-test" }
  }
  mock_resource "aws_lambda_function" {
    defaults = {
      arn        = "arn:aws:lambda:eu-west-1:123456789012:function:footfall-test"
      invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:footfall-test/invocations"
    }
  }
  mock_resource "aws_cloudwatch_event_rule" {
    defaults = { arn = "arn:aws:events:eu-west-1:123456789012:rule/footfall-test-maintenance" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/footfall-test" }
  }
  mock_resource "aws_sns_topic" {
    defaults = { arn = "arn:aws:sns:eu-west-1:123456789012:footfall-test-alarms" }
  }
  mock_resource "aws_cloudwatch_metric_alarm" {
    defaults = { arn = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:footfall-test" }
  }
  mock_resource "aws_api_gateway_rest_api" {
    defaults = {
      execution_arn    = "arn:aws:execute-api:eu-west-1:123456789012:rest123"
      root_resource_id = "root00"
    }
  }
  mock_resource "aws_apigatewayv2_api" {
    defaults = { execution_arn = "arn:aws:execute-api:eu-west-1:123456789012:http123" }
  }
  mock_resource "aws_api_gateway_stage" {
    defaults = { arn = "arn:aws:apigateway:eu-west-1::/restapis/rest123/stages/v1" }
  }
  mock_resource "aws_wafv2_web_acl" {
    defaults = { arn = "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/footfall-test-api/mock" }
  }
  mock_resource "aws_acm_certificate" {
    defaults = {
      arn = "arn:aws:acm:eu-west-1:123456789012:certificate/mock"
      domain_validation_options = [{
        domain_name           = "api.me.example"
        resource_record_name  = "_x1.api.me.example."
        resource_record_type  = "CNAME"
        resource_record_value = "_y1.acm-validations.aws."
      }]
    }
  }
  mock_resource "aws_acm_certificate_validation" {
    defaults = { certificate_arn = "arn:aws:acm:eu-west-1:123456789012:certificate/mock" }
  }
  mock_resource "aws_apigatewayv2_domain_name" {
    defaults = {
      domain_name_configuration = {
        certificate_arn                        = "arn:aws:acm:eu-west-1:123456789012:certificate/mock"
        endpoint_type                          = "REGIONAL"
        security_policy                        = "TLS_1_2"
        target_domain_name                     = "d-abc.execute-api.eu-west-1.amazonaws.com"
        hosted_zone_id                         = "ZMOCKAPIGW"
        ip_address_type                        = "ipv4"
        ownership_verification_certificate_arn = ""
      }
    }
  }
}

# The mock gives every function, log group and role the same ARN by default; the aggregates
# function's own ARNs keep the policy and mapping assertions below meaningful.
override_resource {
  target = aws_lambda_function.aggregates
  values = { arn = "arn:aws:lambda:eu-west-1:123456789012:function:footfall-test-aggregates" }
}
override_resource {
  target = aws_cloudwatch_log_group.aggregates
  values = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/footfall-test-aggregates" }
}
override_resource {
  target = aws_iam_role.aggregates
  values = { arn = "arn:aws:iam::123456789012:role/footfall-test-aggregates" }
}

variables {
  name            = "footfall-test"
  allowed_origins = ["https://me.example", "https://www.me.example"]
}

run "defaults_rest_api" {
  command = apply

  # Table: key design, on-demand, TTL, PITR, SSE, deletion protection on, only the aggregates
  # index (the store's key design, src/store/dynamodb/dynamodb_store.h).
  assert {
    condition = (
      aws_dynamodb_table.visits.name == "footfall-test-visits" &&
      aws_dynamodb_table.visits.hash_key == "visit_id" &&
      aws_dynamodb_table.visits.range_key == null &&
      aws_dynamodb_table.visits.billing_mode == "PAY_PER_REQUEST" &&
      length(aws_dynamodb_table.visits.attribute) == 3 &&
      [for i in aws_dynamodb_table.visits.global_secondary_index : [i.name, i.hash_key, i.range_key, i.projection_type]] == [["aggregates", "agg_pk", "agg_sk", "ALL"]] &&
      aws_dynamodb_table.visits.deletion_protection_enabled
    )
    error_message = "table must be visit_id-keyed, on-demand, with only the aggregates index and deletion-protected by default"
  }
  assert {
    condition = (
      aws_dynamodb_table.visits.ttl[0].enabled &&
      aws_dynamodb_table.visits.ttl[0].attribute_name == "expiration_time" &&
      aws_dynamodb_table.visits.point_in_time_recovery[0].enabled &&
      aws_dynamodb_table.visits.server_side_encryption[0].enabled
    )
    error_message = "table must have TTL on expiration_time, PITR and SSE"
  }
  assert {
    condition     = aws_dynamodb_table.visits.stream_enabled && aws_dynamodb_table.visits.stream_view_type == "NEW_IMAGE"
    error_message = "the table's stream must be on with NEW_IMAGE: it feeds the aggregates function"
  }

  # One counter item "total" at 0, never rewritten on later applies.
  assert {
    condition     = sort(keys(aws_dynamodb_table_item.counter)) == tolist(["total"])
    error_message = "one shard must create exactly the counter item \"total\""
  }
  assert {
    condition     = jsondecode(aws_dynamodb_table_item.counter["total"].item) == { visit_id = { S = "total" }, count = { N = "0" } }
    error_message = "the counter item must start at 0"
  }

  # Function: runtime, handler, environment (exactly these keys; no AWS_REGION), tracing.
  assert {
    condition = (
      aws_lambda_function.footfall.runtime == "provided.al2023" &&
      aws_lambda_function.footfall.handler == "bootstrap" &&
      aws_lambda_function.footfall.architectures == tolist(["x86_64"]) &&
      aws_lambda_function.footfall.memory_size == 128 &&
      aws_lambda_function.footfall.timeout == 10 &&
      aws_lambda_function.footfall.reserved_concurrent_executions == -1 &&
      aws_lambda_function.footfall.tracing_config[0].mode == "Active"
    )
    error_message = "function settings differ from the contract"
  }
  assert {
    condition = aws_lambda_function.footfall.environment[0].variables == tomap({
      DYNAMODB_TABLE           = "footfall-test-visits"
      FOOTFALL_ALLOWED_ORIGINS = "https://me.example,https://www.me.example"
      FOOTFALL_RETENTION_DAYS  = "90"
      FOOTFALL_COUNTER_SHARDS  = "1"
      FOOTFALL_LOG_LEVEL       = "info"
      FOOTFALL_METRICS         = "log"
      FOOTFALL_AGGREGATES      = "stream"
    })
    error_message = "function environment differs from the contract"
  }
  assert {
    condition     = aws_cloudwatch_log_group.lambda.name == "/aws/lambda/footfall-test" && aws_cloudwatch_log_group.lambda.retention_in_days == 30
    error_message = "the function's log group must be /aws/lambda/<name> with a retention"
  }
  assert {
    condition = (
      keys(aws_cloudwatch_log_metric_filter.line) == [
        "ColdStart", "Errors", "StoreDriftVisits", "StoreLatency", "VisitsRecorded",
        "aggregates-ColdStart", "aggregates-Errors", "aggregates-StreamRecordsAlreadyApplied",
        "aggregates-StreamRecordsSkipped", "aggregates-StreamVisitsApplied",
      ] &&
      aws_cloudwatch_log_metric_filter.line["StoreLatency"].log_group_name == "/aws/lambda/footfall-test" &&
      aws_cloudwatch_log_metric_filter.line["StoreLatency"].pattern == "{ $.StoreLatency >= 0 }" &&
      aws_cloudwatch_log_metric_filter.line["StoreLatency"].metric_transformation[0].name == "StoreLatency" &&
      aws_cloudwatch_log_metric_filter.line["StoreLatency"].metric_transformation[0].namespace == "Footfall" &&
      aws_cloudwatch_log_metric_filter.line["StoreLatency"].metric_transformation[0].value == "$.StoreLatency" &&
      aws_cloudwatch_log_metric_filter.line["StoreLatency"].metric_transformation[0].unit == "Milliseconds" &&
      aws_cloudwatch_log_metric_filter.line["StoreLatency"].metric_transformation[0].dimensions == tomap({ FunctionName = "$.FunctionName" }) &&
      aws_cloudwatch_log_metric_filter.line["aggregates-Errors"].log_group_name == "/aws/lambda/footfall-test-aggregates" &&
      aws_cloudwatch_log_metric_filter.line["aggregates-Errors"].metric_transformation[0].name == "Errors"
    )
    error_message = "each metric of the functions' log lines needs its metric filter (namespace Footfall, dimension FunctionName from the line)"
  }

  # Least privilege: the store's five DynamoDB actions on this table, Query on its aggregates
  # index, logs on its own group, X-Ray put actions on "*" and nothing else.
  assert {
    condition = jsondecode(aws_iam_role_policy.lambda.policy).Statement == [
      {
        Sid      = "VisitsTable"
        Effect   = "Allow"
        Action   = ["dynamodb:BatchGetItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
        Resource = "arn:aws:dynamodb:eu-west-1:123456789012:table/footfall-test-visits"
      },
      {
        Sid      = "AggregatesIndex"
        Effect   = "Allow"
        Action   = ["dynamodb:Query"]
        Resource = "arn:aws:dynamodb:eu-west-1:123456789012:table/footfall-test-visits/index/aggregates"
      },
      {
        Sid      = "OwnLogGroup"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/footfall-test:*"
      },
      {
        Sid      = "XRay"
        Effect   = "Allow"
        Action   = ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]
        Resource = "*"
      },
    ]
    error_message = "the function's policy is not the least-privilege one"
  }
  assert {
    condition     = jsondecode(aws_iam_role.lambda.assume_role_policy).Statement[0].Principal == { Service = "lambda.amazonaws.com" }
    error_message = "only Lambda may assume the function's role"
  }

  # The aggregates function: the same package and runtime as the API function, its own role,
  # log group, timeout and environment (exactly these keys).
  assert {
    condition = (
      aws_lambda_function.aggregates.function_name == "footfall-test-aggregates" &&
      aws_lambda_function.aggregates.filename == aws_lambda_function.footfall.filename &&
      aws_lambda_function.aggregates.source_code_hash == aws_lambda_function.footfall.source_code_hash &&
      aws_lambda_function.aggregates.runtime == "provided.al2023" &&
      aws_lambda_function.aggregates.handler == "bootstrap" &&
      aws_lambda_function.aggregates.architectures == tolist(["x86_64"]) &&
      aws_lambda_function.aggregates.memory_size == 128 &&
      aws_lambda_function.aggregates.timeout == 60 &&
      aws_lambda_function.aggregates.tracing_config[0].mode == "Active" &&
      aws_lambda_function.aggregates.role == "arn:aws:iam::123456789012:role/footfall-test-aggregates" &&
      aws_iam_role.aggregates.name == "footfall-test-aggregates"
    )
    error_message = "aggregates function settings differ from the contract"
  }
  assert {
    condition = aws_lambda_function.aggregates.environment[0].variables == tomap({
      DYNAMODB_TABLE      = "footfall-test-visits"
      FOOTFALL_LOG_LEVEL  = "info"
      FOOTFALL_METRICS    = "log"
      FOOTFALL_AGGREGATES = "stream"
    })
    error_message = "aggregates function environment differs from the contract"
  }
  assert {
    condition     = aws_cloudwatch_log_group.aggregates.name == "/aws/lambda/footfall-test-aggregates" && aws_cloudwatch_log_group.aggregates.retention_in_days == 30
    error_message = "the aggregates function's log group must be /aws/lambda/<name>-aggregates with a retention"
  }
  assert {
    condition     = jsondecode(aws_iam_role.aggregates.assume_role_policy).Statement[0].Principal == { Service = "lambda.amazonaws.com" }
    error_message = "only Lambda may assume the aggregates function's role"
  }

  # Least privilege for the aggregates role: reading this table's stream, the aggregate writes
  # on this table (no DeleteItem, no Query), the failure queue, its own log group, X-Ray.
  assert {
    condition = jsondecode(aws_iam_role_policy.aggregates.policy).Statement == [
      {
        Sid      = "VisitsStream"
        Effect   = "Allow"
        Action   = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"]
        Resource = "arn:aws:dynamodb:eu-west-1:123456789012:table/footfall-test-visits/stream/2026-01-01T00:00:00.000"
      },
      {
        Sid      = "ListVisitsStreams"
        Effect   = "Allow"
        Action   = ["dynamodb:ListStreams"]
        Resource = "arn:aws:dynamodb:eu-west-1:123456789012:table/footfall-test-visits/stream/*"
      },
      {
        Sid      = "VisitsTable"
        Effect   = "Allow"
        Action   = ["dynamodb:BatchGetItem", "dynamodb:ConditionCheckItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
        Resource = "arn:aws:dynamodb:eu-west-1:123456789012:table/footfall-test-visits"
      },
      {
        Sid      = "FailureQueue"
        Effect   = "Allow"
        Action   = ["sqs:SendMessage"]
        Resource = "arn:aws:sqs:eu-west-1:123456789012:footfall-test-aggregates-failures"
      },
      {
        Sid      = "OwnLogGroup"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/footfall-test-aggregates:*"
      },
      {
        Sid      = "XRay"
        Effect   = "Allow"
        Action   = ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]
        Resource = "*"
      },
    ]
    error_message = "the aggregates function's policy is not the least-privilege one"
  }

  # The stream → function mapping: settings, partial-batch failures, failure destination, and a
  # filter that lets through only INSERTs of visit items marked for the stream.
  assert {
    condition = (
      aws_lambda_event_source_mapping.aggregates.event_source_arn == aws_dynamodb_table.visits.stream_arn &&
      aws_lambda_event_source_mapping.aggregates.function_name == "arn:aws:lambda:eu-west-1:123456789012:function:footfall-test-aggregates" &&
      aws_lambda_event_source_mapping.aggregates.starting_position == "TRIM_HORIZON" &&
      aws_lambda_event_source_mapping.aggregates.batch_size == 100 &&
      aws_lambda_event_source_mapping.aggregates.maximum_batching_window_in_seconds == 5 &&
      aws_lambda_event_source_mapping.aggregates.bisect_batch_on_function_error &&
      aws_lambda_event_source_mapping.aggregates.maximum_retry_attempts == 10 &&
      aws_lambda_event_source_mapping.aggregates.maximum_record_age_in_seconds == 86400 &&
      tolist(aws_lambda_event_source_mapping.aggregates.function_response_types) == tolist(["ReportBatchItemFailures"])
    )
    error_message = "the event source mapping's settings differ from the defaults"
  }
  assert {
    condition     = aws_lambda_event_source_mapping.aggregates.destination_config[0].on_failure[0].destination_arn == aws_sqs_queue.aggregates_failures.arn
    error_message = "batches given up on must go to the failure queue"
  }
  assert {
    condition = (
      length(aws_lambda_event_source_mapping.aggregates.filter_criteria) == 1 &&
      length(aws_lambda_event_source_mapping.aggregates.filter_criteria[0].filter) == 1 &&
      jsondecode(one(aws_lambda_event_source_mapping.aggregates.filter_criteria[0].filter).pattern) == {
        eventName = ["INSERT"]
        dynamodb  = { NewImage = { aggregates = { S = ["stream"] } } }
      }
    )
    error_message = "the mapping must have exactly one filter: INSERTs of visits marked for the stream"
  }
  assert {
    condition = (
      aws_sqs_queue.aggregates_failures.name == "footfall-test-aggregates-failures" &&
      aws_sqs_queue.aggregates_failures.sqs_managed_sse_enabled &&
      aws_sqs_queue.aggregates_failures.message_retention_seconds == 1209600
    )
    error_message = "the failure queue must be <name>-aggregates-failures, encrypted, keeping messages 14 days"
  }

  # Maintenance: an hourly EventBridge rule, a minute past each hour UTC (so a salt outlives its
  # 48 h by a minute, not up to an hour as with rate(1 hour)), invokes the API function (not the
  # aggregates one) with EventBridge's own Scheduled Event (no custom input), allowed from that
  # rule only.
  assert {
    condition = (
      aws_cloudwatch_event_rule.maintenance.name == "footfall-test-maintenance" &&
      aws_cloudwatch_event_rule.maintenance.schedule_expression == "cron(1 * * * ? *)" &&
      aws_cloudwatch_event_rule.maintenance.event_pattern == null &&
      aws_cloudwatch_event_rule.maintenance.state == "ENABLED" &&
      aws_cloudwatch_event_rule.maintenance.tags == tomap({ app = "footfall" })
    )
    error_message = "the maintenance rule must be <name>-maintenance, enabled, on cron(1 * * * ? *) by default, tagged"
  }
  assert {
    condition = (
      aws_cloudwatch_event_target.maintenance.rule == aws_cloudwatch_event_rule.maintenance.name &&
      aws_cloudwatch_event_target.maintenance.arn == "arn:aws:lambda:eu-west-1:123456789012:function:footfall-test" &&
      aws_cloudwatch_event_target.maintenance.arn == aws_lambda_function.footfall.arn &&
      aws_cloudwatch_event_target.maintenance.input == null &&
      aws_cloudwatch_event_target.maintenance.input_path == null &&
      length(aws_cloudwatch_event_target.maintenance.input_transformer) == 0
    )
    error_message = "the maintenance target must be the API function, sent the standard Scheduled Event (no input)"
  }
  assert {
    condition = (
      aws_lambda_permission.maintenance.action == "lambda:InvokeFunction" &&
      aws_lambda_permission.maintenance.function_name == "footfall-test" &&
      aws_lambda_permission.maintenance.principal == "events.amazonaws.com" &&
      aws_lambda_permission.maintenance.source_arn == "arn:aws:events:eu-west-1:123456789012:rule/footfall-test-maintenance" &&
      aws_lambda_permission.maintenance.qualifier == null
    )
    error_message = "EventBridge may invoke the function from the maintenance rule only"
  }
  assert {
    condition     = output.maintenance_rule_name == "footfall-test-maintenance" && output.maintenance_rule_arn == aws_cloudwatch_event_rule.maintenance.arn
    error_message = "outputs must name the maintenance rule"
  }

  # REST API: a resource per path segment of every route in routes.json (the output of
  # `footfall routes`), an ANY method on each route's resource (the function answers preflights
  # and wrong methods itself) and the badge's own GET beside it (for its cache), all AWS_PROXY to
  # the function; nothing else.
  assert {
    condition     = length(aws_api_gateway_rest_api.footfall) == 1 && length(aws_apigatewayv2_api.footfall) == 0
    error_message = "api_type rest must create the REST API only"
  }
  assert {
    # The routes as the module must serve them today; routes.json is checked against the binary
    # by its own ctest. If this fails after `footfall routes` changed, update the list.
    condition = jsondecode(file("${path.module}/routes.json")).routes == [
      { path = "/count", methods = ["GET", "OPTIONS"] },
      { path = "/api/count", methods = ["GET", "OPTIONS"] },
      { path = "/api/event", methods = ["POST", "OPTIONS"] },
      { path = "/healthz", methods = ["GET", "OPTIONS"] },
      { path = "/readyz", methods = ["GET", "OPTIONS"] },
      { path = "/api/stats", methods = ["GET", "OPTIONS"] },
      { path = "/dashboard", methods = ["GET", "OPTIONS"] },
      { path = "/counter/{proxy+}", methods = ["GET", "OPTIONS"] },
      { path = "/counter.js", methods = ["GET", "OPTIONS"] },
      { path = "/counter.min.js", methods = ["GET", "OPTIONS"] },
    ] && output.routes == { for r in jsondecode(file("${path.module}/routes.json")).routes : r.path => r.methods }
    error_message = "routes.json or the routes output differ from the routes footfall serves"
  }
  assert {
    # Every prefix of every route path is a resource, at its depth, and nothing else.
    condition = (
      sort(concat(keys(aws_api_gateway_resource.level1), keys(aws_api_gateway_resource.level2),
      keys(aws_api_gateway_resource.level3), keys(aws_api_gateway_resource.level4))) ==
      sort(distinct(flatten([for r in jsondecode(file("${path.module}/routes.json")).routes : [
        for i in range(length(split("/", trimprefix(r.path, "/")))) :
        "/${join("/", slice(split("/", trimprefix(r.path, "/")), 0, i + 1))}"
      ]]))) &&
      sort(keys(aws_api_gateway_resource.level1)) == tolist(["/api", "/count", "/counter", "/counter.js", "/counter.min.js", "/dashboard", "/healthz", "/readyz"]) &&
      sort(keys(aws_api_gateway_resource.level2)) == tolist(["/api/count", "/api/event", "/api/stats", "/counter/{proxy+}"]) &&
      length(aws_api_gateway_resource.level3) == 0 && length(aws_api_gateway_resource.level4) == 0
    )
    error_message = "REST resources differ from the path segments of routes.json"
  }
  assert {
    # Each resource's path_part is its last segment, under the resource of its parent path.
    condition = (
      alltrue([for p, r in aws_api_gateway_resource.level1 : r.parent_id == "root00" && "/${r.path_part}" == p]) &&
      alltrue([for p, r in aws_api_gateway_resource.level2 :
        r.parent_id == aws_api_gateway_resource.level1[dirname(p)].id && "${dirname(p)}/${r.path_part}" == p
      ]) &&
      aws_api_gateway_resource.level2["/counter/{proxy+}"].path_part == "{proxy+}"
    )
    error_message = "REST resources must form the route paths, a greedy {proxy+} last"
  }
  assert {
    condition = sort(keys(aws_api_gateway_method.route)) == sort(concat(
      [for r in jsondecode(file("${path.module}/routes.json")).routes : "ANY ${r.path}"],
      ["GET /counter/{proxy+}"],
      )) && sort(keys(aws_api_gateway_method.route)) == tolist([
      "ANY /api/count", "ANY /api/event", "ANY /api/stats", "ANY /count", "ANY /counter.js",
      "ANY /counter.min.js", "ANY /counter/{proxy+}", "ANY /dashboard", "ANY /healthz", "ANY /readyz",
      "GET /counter/{proxy+}",
    ])
    error_message = "the REST methods must be ANY on every path of routes.json, and the badge's GET"
  }
  assert {
    condition = alltrue([for k, m in aws_api_gateway_method.route :
      m.http_method == split(" ", k)[0] && m.resource_id == merge(
        { for p, r in aws_api_gateway_resource.level1 : p => r.id },
        { for p, r in aws_api_gateway_resource.level2 : p => r.id },
      )[split(" ", k)[1]]
    ])
    error_message = "each method must sit on the resource of its path"
  }
  assert {
    condition = alltrue([for i in aws_api_gateway_integration.route :
      i.type == "AWS_PROXY" && i.integration_http_method == "POST" && i.uri == aws_lambda_function.footfall.invoke_arn
    ])
    error_message = "every method must proxy to the function"
  }
  assert {
    condition     = alltrue([for m in aws_api_gateway_method.route : m.authorization == "NONE" && m.api_key_required != true])
    error_message = "methods are public"
  }
  assert {
    # The badge's cache key: declared on its method and integration (whether or not the cache is
    # on), and on no other method.
    condition = (
      aws_api_gateway_method.route["GET /counter/{proxy+}"].request_parameters == tomap({
        "method.request.path.proxy"           = true
        "method.request.querystring.site"     = false
        "method.request.header.Origin"        = false
        "method.request.header.If-None-Match" = false
      }) &&
      toset(aws_api_gateway_integration.route["GET /counter/{proxy+}"].cache_key_parameters) == toset([
        "method.request.path.proxy", "method.request.querystring.site",
        "method.request.header.Origin", "method.request.header.If-None-Match",
      ]) &&
      alltrue([for k, m in aws_api_gateway_method.route : length(coalesce(m.request_parameters, {})) == 0 if k != "GET /counter/{proxy+}"]) &&
      alltrue([for k, i in aws_api_gateway_integration.route : length(coalesce(i.cache_key_parameters, [])) == 0 if k != "GET /counter/{proxy+}"])
    )
    error_message = "only GET /counter/{proxy+} may declare cache key parameters: its path, site, Origin and If-None-Match"
  }
  assert {
    condition = (
      !aws_api_gateway_stage.footfall[0].cache_cluster_enabled &&
      length(aws_api_gateway_method_settings.badge_cache) == 0 &&
      !aws_api_gateway_method_settings.all[0].settings[0].caching_enabled &&
      output.badge_cache_ttl_s == 0
    )
    error_message = "no cache cluster and no caching by default"
  }

  # Stage: throttling, logging without data trace, JSON access log without client data.
  assert {
    condition = (
      aws_api_gateway_method_settings.all[0].method_path == "*/*" &&
      aws_api_gateway_method_settings.all[0].settings[0].throttling_rate_limit == 20 &&
      aws_api_gateway_method_settings.all[0].settings[0].throttling_burst_limit == 40 &&
      !aws_api_gateway_method_settings.all[0].settings[0].data_trace_enabled &&
      aws_api_gateway_method_settings.all[0].settings[0].logging_level == "ERROR" &&
      !aws_api_gateway_method_settings.all[0].settings[0].metrics_enabled
    )
    error_message = "stage method settings differ from the defaults"
  }
  assert {
    # "*/*" throttles every method of every route; without the cache there is no per-method
    # override that could lift it.
    condition     = length(aws_api_gateway_method_settings.all) == 1 && length(aws_api_gateway_method_settings.badge_cache) == 0
    error_message = "the stage throttle must cover every route"
  }
  assert {
    condition = (
      aws_api_gateway_stage.footfall[0].stage_name == "v1" &&
      aws_api_gateway_stage.footfall[0].xray_tracing_enabled &&
      can(jsondecode(aws_api_gateway_stage.footfall[0].access_log_settings[0].format)) &&
      length(regexall("(?i)sourceIp|userAgent|identity|querystring|caller|user\\b", aws_api_gateway_stage.footfall[0].access_log_settings[0].format)) == 0
    )
    error_message = "the access log must be JSON without client addresses or identities"
  }
  assert {
    condition     = aws_cloudwatch_log_group.api_execution[0].name == "API-Gateway-Execution-Logs_${aws_api_gateway_rest_api.footfall[0].id}/v1"
    error_message = "the execution log group must be pre-created with a retention"
  }
  assert {
    condition     = aws_lambda_permission.rest[0].source_arn == "arn:aws:execute-api:eu-west-1:123456789012:rest123/v1/*" && length(aws_lambda_permission.http) == 0
    error_message = "API Gateway may invoke the function from this API's stage only"
  }
  assert {
    condition     = length(aws_api_gateway_account.footfall) == 1 && length(aws_iam_role_policy_attachment.apigateway_logs) == 1
    error_message = "the REST API needs the account-level CloudWatch role by default"
  }

  # Off by default: WAF, custom domain, e-mail.
  assert {
    condition = (
      length(aws_wafv2_web_acl.api) == 0 && length(aws_wafv2_web_acl_association.api) == 0 &&
      length(aws_acm_certificate.api) == 0 && length(aws_api_gateway_domain_name.api) == 0 &&
      length(aws_route53_record.api_alias) == 0 && length(aws_sns_topic_subscription.alarm_email) == 0
    )
    error_message = "WAF, custom domain and e-mail subscription must be off by default"
  }

  # Alarms notify the topic; the dashboard is in the provider's region.
  assert {
    condition = (
      sort(keys(aws_cloudwatch_metric_alarm.metric)) == tolist([
        "aggregates-errors", "aggregates-failures", "aggregates-iterator-age",
        "api-5xx", "api-latency-p99", "lambda-errors", "lambda-throttles", "store-drift",
        "store-errors",
      ]) &&
      alltrue([for a in concat(values(aws_cloudwatch_metric_alarm.metric), [aws_cloudwatch_metric_alarm.dynamodb_throttles]) :
        tolist(a.alarm_actions) == tolist([aws_sns_topic.alarms.arn]) && tolist(a.ok_actions) == tolist([aws_sns_topic.alarms.arn])
      ])
    )
    error_message = "every alarm must notify the SNS topic"
  }
  assert {
    condition = (
      aws_cloudwatch_metric_alarm.metric["api-5xx"].metric_name == "5XXError" &&
      aws_cloudwatch_metric_alarm.metric["api-5xx"].dimensions == tomap({ ApiName = "footfall-test", Stage = "v1" }) &&
      aws_cloudwatch_metric_alarm.metric["api-latency-p99"].extended_statistic == "p99" &&
      aws_cloudwatch_metric_alarm.metric["store-errors"].namespace == "Footfall" &&
      aws_cloudwatch_metric_alarm.metric["store-drift"].metric_name == "StoreDriftVisits" &&
      aws_cloudwatch_metric_alarm.metric["store-drift"].dimensions == tomap({ FunctionName = "footfall-test" })
    )
    error_message = "REST alarms must use the REST metric names and dimensions"
  }
  assert {
    condition = (
      aws_cloudwatch_metric_alarm.metric["aggregates-errors"].namespace == "AWS/Lambda" &&
      aws_cloudwatch_metric_alarm.metric["aggregates-errors"].metric_name == "Errors" &&
      aws_cloudwatch_metric_alarm.metric["aggregates-errors"].dimensions == tomap({ FunctionName = "footfall-test-aggregates" }) &&
      aws_cloudwatch_metric_alarm.metric["aggregates-iterator-age"].metric_name == "IteratorAge" &&
      aws_cloudwatch_metric_alarm.metric["aggregates-iterator-age"].statistic == "Maximum" &&
      aws_cloudwatch_metric_alarm.metric["aggregates-iterator-age"].threshold == 300000 &&
      aws_cloudwatch_metric_alarm.metric["aggregates-iterator-age"].dimensions == tomap({ FunctionName = "footfall-test-aggregates" }) &&
      aws_cloudwatch_metric_alarm.metric["aggregates-failures"].namespace == "AWS/SQS" &&
      aws_cloudwatch_metric_alarm.metric["aggregates-failures"].metric_name == "ApproximateNumberOfMessagesVisible" &&
      aws_cloudwatch_metric_alarm.metric["aggregates-failures"].statistic == "Maximum" &&
      aws_cloudwatch_metric_alarm.metric["aggregates-failures"].threshold == 0 &&
      aws_cloudwatch_metric_alarm.metric["aggregates-failures"].dimensions == tomap({ QueueName = "footfall-test-aggregates-failures" })
    )
    error_message = "aggregates alarms: function errors, iterator age in ms, messages in the failure queue"
  }
  assert {
    condition = alltrue([for w in jsondecode(aws_cloudwatch_dashboard.footfall.dashboard_body).widgets :
      w.properties.region == "eu-west-1" if w.type == "metric"
    ])
    error_message = "every dashboard widget must use the provider's region"
  }
  assert {
    condition = contains(
      flatten([for w in jsondecode(aws_cloudwatch_dashboard.footfall.dashboard_body).widgets : w.properties.metrics if w.type == "metric"]),
      "VisitsRecorded"
    )
    error_message = "the dashboard must chart the EMF metric VisitsRecorded"
  }
  assert {
    # Each series as "namespace metric dimension value" (series may carry options after those).
    condition = length(setsubtract(
      [
        "Footfall StreamVisitsApplied FunctionName footfall-test-aggregates",
        "Footfall StreamRecordsSkipped FunctionName footfall-test-aggregates",
        "Footfall StreamRecordsAlreadyApplied FunctionName footfall-test-aggregates",
        "AWS/Lambda Invocations FunctionName footfall-test-aggregates",
        "AWS/Lambda Errors FunctionName footfall-test-aggregates",
        "AWS/Lambda IteratorAge FunctionName footfall-test-aggregates",
        "AWS/SQS ApproximateNumberOfMessagesVisible QueueName footfall-test-aggregates-failures",
      ],
      flatten([for w in jsondecode(aws_cloudwatch_dashboard.footfall.dashboard_body).widgets :
        [for series in w.properties.metrics : join(" ", slice(series, 0, 4))] if w.type == "metric"
      ])
    )) == 0
    error_message = "the dashboard must chart the aggregates function, its EMF metrics and the failure queue"
  }

  assert {
    condition     = output.custom_domain_url == null && output.web_acl_arn == null && output.api_type == "rest"
    error_message = "outputs of optional parts must be null when off"
  }
  assert {
    condition = (
      output.stream_arn == aws_dynamodb_table.visits.stream_arn &&
      output.aggregates_function_name == "footfall-test-aggregates" &&
      output.aggregates_failure_queue_url == "https://sqs.eu-west-1.amazonaws.com/123456789012/footfall-test-aggregates-failures" &&
      output.aggregates_failure_queue_arn == "arn:aws:sqs:eu-west-1:123456789012:footfall-test-aggregates-failures"
    )
    error_message = "outputs must name the stream, the aggregates function and its failure queue"
  }
  assert {
    condition     = output.dashboard_url == "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#dashboards/dashboard/footfall-test"
    error_message = "dashboard_url must point at the provider's region"
  }
}

run "http_api" {
  command = apply

  variables {
    api_type = "http"
  }

  assert {
    condition     = length(aws_apigatewayv2_api.footfall) == 1 && length(aws_api_gateway_rest_api.footfall) == 0 && length(aws_api_gateway_account.footfall) == 0
    error_message = "api_type http must create the HTTP API only (and no REST account setting)"
  }
  assert {
    condition     = aws_apigatewayv2_api.footfall[0].protocol_type == "HTTP" && length(aws_apigatewayv2_api.footfall[0].cors_configuration) == 0
    error_message = "HTTP API without built-in CORS: the handler answers preflights"
  }
  assert {
    # One ANY route per path of routes.json, greedy {proxy+} included, and nothing else: every
    # method reaches the function, which answers preflights and wrong methods (405) itself.
    condition = sort([for r in aws_apigatewayv2_route.route : r.route_key]) == sort([
      for r in jsondecode(file("${path.module}/routes.json")).routes : "ANY ${r.path}"
      ]) && contains([for r in aws_apigatewayv2_route.route : r.route_key], "ANY /counter/{proxy+}") && (
      length(aws_apigatewayv2_route.route) == 10
    )
    error_message = "HTTP routes differ from routes.json"
  }
  assert {
    condition = alltrue([for r in aws_apigatewayv2_route.route :
      r.target == "integrations/${aws_apigatewayv2_integration.footfall[0].id}" && r.authorization_type == "NONE"
    ])
    error_message = "every HTTP route must be public and target the one integration"
  }
  assert {
    # Throttling covers every route: the stage default, with no per-route override that could lift it.
    condition = (
      length(aws_apigatewayv2_stage.footfall[0].route_settings) == 0 &&
      aws_apigatewayv2_stage.footfall[0].default_route_settings[0].throttling_rate_limit == 20 &&
      aws_apigatewayv2_stage.footfall[0].default_route_settings[0].throttling_burst_limit == 40
    )
    error_message = "the HTTP stage's default throttle must apply to every route (no route_settings)"
  }
  assert {
    condition = (
      aws_apigatewayv2_integration.footfall[0].integration_type == "AWS_PROXY" &&
      aws_apigatewayv2_integration.footfall[0].payload_format_version == "2.0" &&
      aws_apigatewayv2_integration.footfall[0].integration_uri == aws_lambda_function.footfall.invoke_arn
    )
    error_message = "the HTTP API must proxy to the function with payload 2.0"
  }
  assert {
    condition = (
      aws_apigatewayv2_stage.footfall[0].name == "$default" && aws_apigatewayv2_stage.footfall[0].auto_deploy &&
      aws_apigatewayv2_stage.footfall[0].default_route_settings[0].throttling_rate_limit == 20 &&
      aws_apigatewayv2_stage.footfall[0].default_route_settings[0].throttling_burst_limit == 40 &&
      length(regexall("(?i)sourceIp|userAgent|identity|querystring", aws_apigatewayv2_stage.footfall[0].access_log_settings[0].format)) == 0
    )
    error_message = "HTTP stage: $default, auto-deployed, throttled, access log without client data"
  }
  assert {
    condition = (
      aws_cloudwatch_metric_alarm.metric["api-5xx"].metric_name == "5xx" &&
      aws_cloudwatch_metric_alarm.metric["api-5xx"].dimensions == tomap({ ApiId = aws_apigatewayv2_api.footfall[0].id, Stage = "$default" })
    )
    error_message = "HTTP alarms must use the HTTP API metric names and dimensions"
  }
  assert {
    condition     = aws_lambda_permission.http[0].source_arn == "arn:aws:execute-api:eu-west-1:123456789012:http123/*" && length(aws_lambda_permission.rest) == 0
    error_message = "API Gateway may invoke the function from this HTTP API only"
  }
  assert {
    condition = (
      aws_cloudwatch_event_target.maintenance.arn == aws_lambda_function.footfall.arn &&
      aws_lambda_permission.maintenance.principal == "events.amazonaws.com" &&
      aws_lambda_permission.maintenance.source_arn == aws_cloudwatch_event_rule.maintenance.arn
    )
    error_message = "the maintenance schedule does not depend on the API type"
  }
}

run "sharded_counter_and_options" {
  command = apply

  variables {
    counter_shards              = 4
    xray_tracing                = false
    lambda_architecture         = "arm64"
    lambda_reserved_concurrency = 10
    retention_days              = 30
    log_level                   = "warn"
    execution_logging_level     = "OFF"
    manage_api_gateway_account  = false
    deletion_protection         = false
    table_name                  = "my-visits"
    goals                       = "event:signup,page:/docs/*"
    max_distinct_values         = 500
  }

  assert {
    condition     = sort(keys(aws_dynamodb_table_item.counter)) == tolist(["total", "total#0", "total#1", "total#2", "total#3"])
    error_message = "4 shards must create total#0..total#3 and keep \"total\""
  }
  assert {
    condition     = jsondecode(aws_dynamodb_table_item.counter["total#2"].item) == { visit_id = { S = "total#2" }, count = { N = "0" } }
    error_message = "each shard starts at 0"
  }
  assert {
    condition = (
      aws_lambda_function.footfall.environment[0].variables.FOOTFALL_COUNTER_SHARDS == "4" &&
      aws_lambda_function.footfall.environment[0].variables.FOOTFALL_RETENTION_DAYS == "30" &&
      aws_lambda_function.footfall.environment[0].variables.FOOTFALL_LOG_LEVEL == "warn" &&
      aws_lambda_function.footfall.environment[0].variables.DYNAMODB_TABLE == "my-visits" &&
      aws_lambda_function.footfall.environment[0].variables.FOOTFALL_GOALS == "event:signup,page:/docs/*" &&
      aws_lambda_function.footfall.environment[0].variables.FOOTFALL_MAX_DISTINCT_VALUES == "500"
    )
    error_message = "the environment must follow the variables"
  }
  assert {
    condition = (
      aws_lambda_function.footfall.tracing_config[0].mode == "PassThrough" &&
      !aws_api_gateway_stage.footfall[0].xray_tracing_enabled &&
      length([for s in jsondecode(aws_iam_role_policy.lambda.policy).Statement : s if s.Sid == "XRay"]) == 0
    )
    error_message = "without tracing there must be no X-Ray permission"
  }
  assert {
    condition = (
      aws_lambda_function.aggregates.tracing_config[0].mode == "PassThrough" &&
      length([for s in jsondecode(aws_iam_role_policy.aggregates.policy).Statement : s if s.Sid == "XRay"]) == 0 &&
      aws_lambda_function.aggregates.architectures == tolist(["arm64"]) &&
      coalesce(aws_lambda_function.aggregates.reserved_concurrent_executions, -1) == -1 &&
      aws_lambda_function.aggregates.environment[0].variables == tomap({
        DYNAMODB_TABLE      = "my-visits"
        FOOTFALL_LOG_LEVEL  = "warn"
        FOOTFALL_METRICS    = "log"
        FOOTFALL_AGGREGATES = "stream"
      })
    )
    error_message = "the aggregates function must follow tracing, architecture, table and log level (and not the API's concurrency cap)"
  }
  assert {
    condition     = aws_lambda_function.footfall.architectures == tolist(["arm64"]) && aws_lambda_function.footfall.reserved_concurrent_executions == 10
    error_message = "architecture and reserved concurrency must follow the variables"
  }
  assert {
    condition     = length(aws_cloudwatch_log_group.api_execution) == 0 && aws_api_gateway_method_settings.all[0].settings[0].logging_level == "OFF"
    error_message = "execution logging OFF needs no execution log group"
  }
  assert {
    condition     = length(aws_api_gateway_account.footfall) == 0 && length(aws_iam_role.apigateway_logs) == 0
    error_message = "manage_api_gateway_account = false must leave the account setting alone"
  }
  assert {
    condition     = !aws_dynamodb_table.visits.deletion_protection_enabled && output.counter_item_ids == tolist(["total", "total#0", "total#1", "total#2", "total#3"])
    error_message = "deletion protection and counter ids must follow the variables"
  }
}

run "aggregates_options" {
  command = apply

  variables {
    lambda_memory_mb                = 256
    aggregates_batch_size           = 10000
    aggregates_batching_window_s    = 0
    aggregates_max_retries          = -1
    aggregates_max_record_age_s     = -1
    aggregates_timeout_s            = 900
    aggregates_iterator_age_alarm_s = 60
  }

  assert {
    condition = (
      aws_lambda_event_source_mapping.aggregates.batch_size == 10000 &&
      aws_lambda_event_source_mapping.aggregates.maximum_batching_window_in_seconds == 0 &&
      aws_lambda_event_source_mapping.aggregates.maximum_retry_attempts == -1 &&
      aws_lambda_event_source_mapping.aggregates.maximum_record_age_in_seconds == -1
    )
    error_message = "the mapping must follow the aggregates_* variables"
  }
  assert {
    condition     = aws_lambda_function.aggregates.timeout == 900 && aws_lambda_function.aggregates.memory_size == 256 && aws_lambda_function.footfall.timeout == 10
    error_message = "the aggregates function takes its own timeout and the shared memory size"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.metric["aggregates-iterator-age"].threshold == 60000
    error_message = "the iterator age alarm threshold is aggregates_iterator_age_alarm_s in milliseconds"
  }
}

run "maintenance_rate_schedule" {
  command = apply

  variables {
    maintenance_schedule = "rate(15 minutes)"
  }

  assert {
    condition = (
      aws_cloudwatch_event_rule.maintenance.schedule_expression == "rate(15 minutes)" &&
      aws_cloudwatch_event_target.maintenance.arn == aws_lambda_function.footfall.arn &&
      aws_lambda_permission.maintenance.source_arn == aws_cloudwatch_event_rule.maintenance.arn
    )
    error_message = "the maintenance rule must take maintenance_schedule as given"
  }
}

run "waf_and_email" {
  command = apply

  variables {
    enable_waf     = true
    waf_rate_limit = 500
    alarm_email    = "ops@me.example"
  }

  assert {
    condition = (
      aws_wafv2_web_acl.api[0].scope == "REGIONAL" &&
      length(aws_wafv2_web_acl.api[0].rule) == 2 &&
      aws_wafv2_web_acl_association.api[0].resource_arn == aws_api_gateway_stage.footfall[0].arn &&
      aws_wafv2_web_acl_association.api[0].web_acl_arn == aws_wafv2_web_acl.api[0].arn
    )
    error_message = "the web ACL must have two rules and be associated with the stage"
  }
  assert {
    condition = anytrue([for r in aws_wafv2_web_acl.api[0].rule :
      r.statement[0].managed_rule_group_statement[0].name == "AWSManagedRulesCommonRuleSet" &&
      r.statement[0].managed_rule_group_statement[0].vendor_name == "AWS"
      if length(r.statement[0].managed_rule_group_statement) > 0
    ])
    error_message = "the AWS common rule set must be a rule"
  }
  assert {
    condition = anytrue([for r in aws_wafv2_web_acl.api[0].rule :
      r.statement[0].rate_based_statement[0].limit == 500 &&
      r.statement[0].rate_based_statement[0].aggregate_key_type == "IP" &&
      length(r.action[0].block) == 1
      if length(r.statement[0].rate_based_statement) > 0
    ])
    error_message = "the per-IP rate rule must block above waf_rate_limit"
  }
  assert {
    # The ACL is on the stage, so it sees every route (the badge, the dashboard, /api/event too),
    # and the rate rule counts every request of an address: no scope-down to some paths.
    condition = (
      aws_wafv2_web_acl_association.api[0].resource_arn == aws_api_gateway_stage.footfall[0].arn &&
      alltrue([for r in aws_wafv2_web_acl.api[0].rule :
        length(r.statement[0].rate_based_statement[0].scope_down_statement) == 0
        if length(r.statement[0].rate_based_statement) > 0
      ]) &&
      aws_api_gateway_method_settings.all[0].method_path == "*/*"
    )
    error_message = "WAF and the stage throttle must cover every route"
  }
  assert {
    condition     = aws_sns_topic_subscription.alarm_email[0].protocol == "email" && aws_sns_topic_subscription.alarm_email[0].endpoint == "ops@me.example"
    error_message = "alarm_email must subscribe to the topic"
  }
}

run "custom_domain_rest" {
  command = apply

  variables {
    custom_domain_name = "api.me.example"
    route53_zone_id    = "ZMOCKZONE"
  }

  assert {
    condition = (
      aws_acm_certificate.api[0].domain_name == "api.me.example" &&
      aws_acm_certificate.api[0].validation_method == "DNS" &&
      aws_route53_record.certificate_validation[0].name == "_x1.api.me.example." &&
      aws_route53_record.certificate_validation[0].zone_id == "ZMOCKZONE"
    )
    error_message = "the certificate must be validated by DNS in the given zone"
  }
  assert {
    condition = (
      aws_api_gateway_domain_name.api[0].regional_certificate_arn == aws_acm_certificate_validation.api[0].certificate_arn &&
      aws_api_gateway_domain_name.api[0].security_policy == "TLS_1_2" &&
      aws_api_gateway_base_path_mapping.api[0].stage_name == "v1" &&
      aws_route53_record.api_alias[0].type == "A" &&
      aws_route53_record.api_alias[0].alias[0].name == aws_api_gateway_domain_name.api[0].regional_domain_name &&
      length(aws_apigatewayv2_domain_name.api) == 0
    )
    error_message = "REST custom domain: regional domain name, mapping to the stage, alias record"
  }
  assert {
    condition     = output.custom_domain_url == "https://api.me.example"
    error_message = "custom_domain_url must be set"
  }
  assert {
    condition     = output.stats_dashboard_url == "https://api.me.example/dashboard" && output.counter_badge_url_prefix == "https://api.me.example/counter/"
    error_message = "with a custom domain, the dashboard and badge URLs use it"
  }
}

run "custom_domain_http" {
  command = apply

  variables {
    api_type           = "http"
    custom_domain_name = "api.me.example"
    route53_zone_id    = "ZMOCKZONE"
  }

  assert {
    condition = (
      aws_apigatewayv2_domain_name.api[0].domain_name == "api.me.example" &&
      aws_apigatewayv2_api_mapping.api[0].api_id == aws_apigatewayv2_api.footfall[0].id &&
      aws_route53_record.api_alias[0].alias[0].name == "d-abc.execute-api.eu-west-1.amazonaws.com" &&
      aws_route53_record.api_alias[0].alias[0].zone_id == "ZMOCKAPIGW" &&
      length(aws_api_gateway_domain_name.api) == 0
    )
    error_message = "HTTP custom domain: v2 domain name, API mapping, alias to its target"
  }
}

# The statistics token in SSM, encrypted with SSM's AWS managed key: the function is told the
# parameter's name and version and may read that parameter only, and decrypt only through SSM.
run "stats_token_in_ssm" {
  command = apply

  variables {
    stats_token_parameter_name = "/footfall/test/stats-token"
    stats_token_version        = "7"
  }

  assert {
    condition = aws_lambda_function.footfall.environment[0].variables == tomap({
      DYNAMODB_TABLE                 = "footfall-test-visits"
      FOOTFALL_ALLOWED_ORIGINS       = "https://me.example,https://www.me.example"
      FOOTFALL_RETENTION_DAYS        = "90"
      FOOTFALL_COUNTER_SHARDS        = "1"
      FOOTFALL_LOG_LEVEL             = "info"
      FOOTFALL_METRICS               = "log"
      FOOTFALL_AGGREGATES            = "stream"
      FOOTFALL_STATS_TOKEN_PARAMETER = "/footfall/test/stats-token"
      FOOTFALL_STATS_TOKEN_VERSION   = "7"
    })
    error_message = "the function must be told the parameter's name and version (and not stats_public)"
  }
  assert {
    condition = [for st in jsondecode(aws_iam_role_policy.lambda.policy).Statement : st if startswith(st.Sid, "StatsToken")] == [
      {
        Sid      = "StatsTokenParameter"
        Effect   = "Allow"
        Action   = ["ssm:GetParameter"]
        Resource = "arn:aws:ssm:eu-west-1:123456789012:parameter/footfall/test/stats-token"
      },
      {
        Sid       = "StatsTokenKey"
        Effect    = "Allow"
        Action    = ["kms:Decrypt"]
        Resource  = "arn:aws:kms:eu-west-1:123456789012:key/0000aaaa-aws-ssm-mock"
        Condition = { StringEquals = { "kms:ViaService" = "ssm.eu-west-1.amazonaws.com" } }
      },
    ]
    error_message = "GetParameter on exactly the parameter's ARN, Decrypt on the aws/ssm key only through SSM"
  }
  assert {
    condition = (
      [for st in jsondecode(aws_iam_role_policy.lambda.policy).Statement : st.Sid] ==
      ["VisitsTable", "AggregatesIndex", "OwnLogGroup", "XRay", "StatsTokenParameter", "StatsTokenKey"] &&
      !strcontains(aws_iam_role_policy.lambda.policy, "ssm:GetParameters") &&
      !strcontains(aws_iam_role_policy.lambda.policy, "ssm:GetParametersByPath")
    )
    error_message = "the token adds exactly two statements, and no wider SSM read"
  }
  assert {
    condition     = data.aws_kms_key.ssm[0].key_id == "alias/aws/ssm" && length(data.aws_caller_identity.stats_token) == 1
    error_message = "the default key is SSM's AWS managed key, found by its alias"
  }
  assert {
    # The aggregates function never needs the token.
    condition = (
      !strcontains(aws_iam_role_policy.aggregates.policy, "ssm:") && !strcontains(aws_iam_role_policy.aggregates.policy, "kms:") &&
      !contains(keys(aws_lambda_function.aggregates.environment[0].variables), "FOOTFALL_STATS_TOKEN_PARAMETER")
    )
    error_message = "only the API function may read the token"
  }
  assert {
    condition     = output.stats_token_parameter_arn == "arn:aws:ssm:eu-west-1:123456789012:parameter/footfall/test/stats-token"
    error_message = "output stats_token_parameter_arn"
  }
}

# A parameter name without a leading slash, encrypted with a customer managed key: no lookup of
# aws/ssm, Decrypt on that key only.
run "stats_token_customer_managed_key" {
  command = apply

  variables {
    stats_token_parameter_name = "footfall-stats-token"
    stats_token_kms_key_arn    = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  }

  assert {
    condition = [for st in jsondecode(aws_iam_role_policy.lambda.policy).Statement : [st.Resource, try(st.Condition, null)] if startswith(st.Sid, "StatsToken")] == [
      ["arn:aws:ssm:eu-west-1:123456789012:parameter/footfall-stats-token", null],
      ["arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab", { StringEquals = { "kms:ViaService" = "ssm.eu-west-1.amazonaws.com" } }],
    ]
    error_message = "a plain name is parameter/<name>; the customer managed key is the only key, still only through SSM"
  }
  assert {
    condition     = length(data.aws_kms_key.ssm) == 0
    error_message = "with a customer managed key the aws/ssm key must not be looked up"
  }
  assert {
    condition = (
      aws_lambda_function.footfall.environment[0].variables.FOOTFALL_STATS_TOKEN_PARAMETER == "footfall-stats-token" &&
      aws_lambda_function.footfall.environment[0].variables.FOOTFALL_STATS_TOKEN_VERSION == "1"
    )
    error_message = "the environment names the parameter as given, version 1 by default"
  }
}

# A public dashboard: no token, no SSM permission, no lookups.
run "stats_public" {
  command = apply

  variables {
    stats_public = true
  }

  assert {
    condition = (
      aws_lambda_function.footfall.environment[0].variables.FOOTFALL_STATS_PUBLIC == "true" &&
      !contains(keys(aws_lambda_function.footfall.environment[0].variables), "FOOTFALL_STATS_TOKEN_PARAMETER") &&
      !contains(keys(aws_lambda_function.footfall.environment[0].variables), "FOOTFALL_STATS_TOKEN_VERSION")
    )
    error_message = "stats_public sets FOOTFALL_STATS_PUBLIC=true and nothing about a token"
  }
  assert {
    condition = (
      length([for st in jsondecode(aws_iam_role_policy.lambda.policy).Statement : st if startswith(st.Sid, "StatsToken")]) == 0 &&
      length(data.aws_caller_identity.stats_token) == 0 && length(data.aws_kms_key.ssm) == 0 &&
      output.stats_token_parameter_arn == null
    )
    error_message = "without a token parameter: no SSM or KMS permission and no lookups"
  }
}

# The badge cache on the REST stage: a 0.5 GB cluster, caching on for GET /counter/{proxy+} only,
# with the same throttle and logging as every other method.
run "badge_cache_rest" {
  command = apply

  variables {
    badge_cache_ttl_s = 300
  }

  assert {
    condition     = aws_api_gateway_stage.footfall[0].cache_cluster_enabled && aws_api_gateway_stage.footfall[0].cache_cluster_size == "0.5"
    error_message = "the stage needs the smallest cache cluster"
  }
  assert {
    condition = (
      aws_api_gateway_method_settings.badge_cache[0].method_path == "~1counter~1{proxy+}/GET" &&
      aws_api_gateway_method_settings.badge_cache[0].settings[0].caching_enabled &&
      aws_api_gateway_method_settings.badge_cache[0].settings[0].cache_ttl_in_seconds == 300 &&
      aws_api_gateway_method_settings.badge_cache[0].settings[0].cache_data_encrypted &&
      aws_api_gateway_method_settings.badge_cache[0].settings[0].require_authorization_for_cache_control &&
      aws_api_gateway_method_settings.badge_cache[0].settings[0].unauthorized_cache_control_header_strategy == "SUCCEED_WITHOUT_RESPONSE_HEADER"
    )
    error_message = "GET /counter/{proxy+} is cached for badge_cache_ttl_s; anonymous clients cannot flush it"
  }
  assert {
    condition     = !aws_api_gateway_method_settings.all[0].settings[0].caching_enabled && aws_api_gateway_method_settings.all[0].method_path == "*/*"
    error_message = "every other method (GET /count first) must never be cached"
  }
  assert {
    # The override replaces "*/*" for that method: it must carry the same throttle and logging.
    condition = (
      aws_api_gateway_method_settings.badge_cache[0].settings[0].throttling_rate_limit == aws_api_gateway_method_settings.all[0].settings[0].throttling_rate_limit &&
      aws_api_gateway_method_settings.badge_cache[0].settings[0].throttling_burst_limit == aws_api_gateway_method_settings.all[0].settings[0].throttling_burst_limit &&
      aws_api_gateway_method_settings.badge_cache[0].settings[0].throttling_rate_limit == 20 &&
      aws_api_gateway_method_settings.badge_cache[0].settings[0].logging_level == aws_api_gateway_method_settings.all[0].settings[0].logging_level &&
      aws_api_gateway_method_settings.badge_cache[0].settings[0].data_trace_enabled == aws_api_gateway_method_settings.all[0].settings[0].data_trace_enabled &&
      aws_api_gateway_method_settings.badge_cache[0].settings[0].metrics_enabled == aws_api_gateway_method_settings.all[0].settings[0].metrics_enabled
    )
    error_message = "the cached badge must stay throttled and logged like every other route"
  }
  assert {
    condition     = output.badge_cache_ttl_s == 300
    error_message = "output badge_cache_ttl_s"
  }
}
