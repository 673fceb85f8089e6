terraform {
  # 1.9: variable validations may refer to other variables (burst >= rate, WAF needs REST).
  required_version = ">= 1.9.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.70.0, < 6.0.0"
    }
  }
}
