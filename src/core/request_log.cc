#include "core/request_log.h"

#include <array>

#include "core/responses.h"
#include "core/visit_identity.h"

namespace footfall::core {
namespace {

std::string_view KnownMethod(std::string_view method) {
  static constexpr std::array<std::string_view, 9> kKnown = {
      "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE"};
  for (std::string_view known : kKnown) {
    if (known == method) return known;
  }
  return "OTHER";
}

}  // namespace

std::string FormatRequestLogLine(TimePoint time, std::string_view request_id,
                                 std::string_view method, const Response& response,
                                 int64_t latency_us) {
  std::string line;
  line.reserve(160);
  line += "{\"time\":\"";
  line += FormatIso8601Millis(time);
  line += "\",\"request_id\":";
  line += JsonQuote(request_id);
  line += ",\"method\":\"";
  line += KnownMethod(method);
  line += "\",\"route\":";
  line += JsonQuote(response.route.empty() ? "unknown" : response.route);
  line += ",\"status\":";
  line += std::to_string(response.status);
  line += ",\"latency_us\":";
  line += std::to_string(latency_us);
  line += ",\"batch\":";
  line += std::to_string(response.store_batch_size);
  if (!response.internal_error.empty()) {
    line += ",\"error\":";
    line += JsonQuote(response.internal_error);
  }
  line += "}";
  return line;
}

}  // namespace footfall::core
