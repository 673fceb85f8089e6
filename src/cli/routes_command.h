// `footfall routes`: prints the routes footfall answers behind API Gateway, as the Terraform
// module reads them (deploy/terraform/modules/footfall/routes.json is this output; the test
// footfall_routes_match_the_module compares them). Thread-compatible.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

namespace footfall::cli {

CLI::App* AddRoutesCommand(CLI::App& app);
// The JSON document: {"routes": [{"path": "/count", "methods": ["GET", "OPTIONS"]}, …]}, one route
// per line, in the handler's order; /metrics is left out (not served on AWS).
std::string RoutesJson();
int RunRoutes();

}  // namespace footfall::cli
