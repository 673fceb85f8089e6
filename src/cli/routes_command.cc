#include "cli/routes_command.h"

#include <nlohmann/json.hpp>

#include <cstdio>

#include "core/service.h"

namespace footfall::cli {

CLI::App* AddRoutesCommand(CLI::App& app) {
  return app.add_subcommand(
      "routes",
      "Print the routes footfall answers behind API Gateway (JSON), as the Terraform module's "
      "routes.json lists them");
}

std::string RoutesJson() {
  std::string out = "{\n  \"routes\": [\n";
  bool first = true;
  for (const core::PublicRoute& route : core::Service::PublicRoutes()) {
    if (route.metrics) continue;
    const nlohmann::ordered_json line = {{"path", route.path},
                                         {"methods", {route.method, "OPTIONS"}}};
    out += (first ? "    " : ",\n    ") + line.dump();
    first = false;
  }
  out += "\n  ]\n}\n";
  return out;
}

int RunRoutes() {
  std::fputs(RoutesJson().c_str(), stdout);
  return 0;
}

}  // namespace footfall::cli
