# The statistics token (GET /api/stats, GET /dashboard) kept out of plain sight: an SSM Parameter
# Store SecureString that the user creates and rotates (docs/aws-deploy.md). The module never
# creates the parameter or reads its value — either would put the token in the Terraform state —
# it only passes its name to the function, which reads it once per execution environment at init,
# and lets the function's role read that one parameter:
#
#   FOOTFALL_STATS_TOKEN_PARAMETER = <name>        FOOTFALL_STATS_TOKEN_VERSION = <version>
#   ssm:GetParameter on arn:<partition>:ssm:<region>:<account>:parameter/<name without leading />
#   kms:Decrypt on the key that encrypts it (aws/ssm, or stats_token_kms_key_arn), only through SSM
#
# Changing stats_token_version changes the function's configuration, and Lambda then starts new
# execution environments, which read the rotated value.

# Looked up only when a token parameter is named: without one, a plan makes no AWS call here.
data "aws_caller_identity" "stats_token" {
  count = local.has_stats_token ? 1 : 0
}

# The AWS managed key SSM encrypts SecureStrings with unless told otherwise. Its ARN is per
# account and region; DescribeKey of the alias gives it (AWS creates the key when a service first
# uses it, so it exists once the parameter does). Needs kms:DescribeKey for whoever runs Terraform.
data "aws_kms_key" "ssm" {
  count = local.has_stats_token && var.stats_token_kms_key_arn == null ? 1 : 0

  key_id = "alias/aws/ssm"
}

locals {
  stats_token_parameter_arn = local.has_stats_token ? join(":", [
    "arn", data.aws_partition.current.partition, "ssm", data.aws_region.current.name,
    data.aws_caller_identity.stats_token[0].account_id,
    "parameter/${trimprefix(var.stats_token_parameter_name, "/")}",
  ]) : null

  stats_token_key_arn = !local.has_stats_token ? null : coalesce(var.stats_token_kms_key_arn, try(data.aws_kms_key.ssm[0].arn, null))

  # (A filtered for-expression: the two statements have different shapes, so a conditional between
  # them and [] would not type-check.)
  stats_token_statements = [for statement in [
    {
      Sid      = "StatsTokenParameter"
      Effect   = "Allow"
      Action   = ["ssm:GetParameter"]
      Resource = local.stats_token_parameter_arn
    },
    {
      # The key policy of aws/ssm already lets the account's principals use it through SSM; a
      # customer managed key's default policy leaves it to IAM. Either way the role says exactly
      # which key, and only for SSM's decryption of the parameter on its behalf.
      Sid       = "StatsTokenKey"
      Effect    = "Allow"
      Action    = ["kms:Decrypt"]
      Resource  = local.stats_token_key_arn
      Condition = { StringEquals = { "kms:ViaService" = "ssm.${data.aws_region.current.name}.amazonaws.com" } }
    },
  ] : statement if local.has_stats_token]

  # What the function is told about statistics (merged into its environment in lambda.tf).
  stats_environment = merge(
    local.has_stats_token ? {
      FOOTFALL_STATS_TOKEN_PARAMETER = var.stats_token_parameter_name
      FOOTFALL_STATS_TOKEN_VERSION   = var.stats_token_version
    } : {},
    var.stats_public ? { FOOTFALL_STATS_PUBLIC = "true" } : {},
  )
}
