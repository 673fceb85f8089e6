// libFuzzer target: arbitrary bytes as an untrusted request (target, headers) through
// core::Service with a memory store. Checks the invariants every answer must keep: a known status,
// a JSON body when there is one, an allowed origin echoed exactly, and no write on an error.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/random.h"
#include "core/counter_snippet.h"
#include "core/service.h"
#include "store/memory_store.h"

namespace {

using footfall::core::Request;
using footfall::core::Response;

// Input format: lines separated by '\n'. Line 1 is the method, line 2 the target, the rest are
// "Name: value" headers. Lines may hold any bytes.
Request ParseInput(std::string_view input) {
  Request request;
  request.peer_address = "203.0.113.9";
  int line_number = 0;
  while (!input.empty()) {
    const size_t end = input.find('\n');
    std::string_view line = input.substr(0, end);
    input = end == std::string_view::npos ? std::string_view() : input.substr(end + 1);
    if (line_number == 0) {
      request.method = std::string(line);
    } else if (line_number == 1) {
      request.target = std::string(line);
    } else {
      const size_t colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      std::string_view value = line.substr(colon + 1);
      if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      request.headers.push_back({std::string(line.substr(0, colon)), std::string(value)});
    }
    ++line_number;
  }
  return request;
}

void Check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static footfall::FakeClock clock(footfall::TimePoint(std::chrono::seconds(1'795'600'800)));
  static footfall::FakeRandom random(1);
  footfall::store::MemoryStore store;
  footfall::core::ServiceOptions options;
  options.allowed_origins = {"https://a.example"};
  auto service = footfall::core::Service::Create(options, store, clock, random);
  Check(service.ok());

  const Request request = ParseInput(std::string_view(reinterpret_cast<const char*>(data), size));
  bool answered = false;
  (*service)->Handle(request, [&](Response response) {
    answered = true;
    static constexpr int kKnown[] = {200, 202, 204, 304, 400, 401, 403, 404,
                                     405, 413, 415, 429, 500, 501, 503};
    bool known = false;
    for (int status : kKnown) known = known || status == response.status;
    Check(known);
    if (!response.body.empty()) {
      // An SVG badge, the counter snippet, Plausible's "ok", or JSON.
      const std::string_view type = response.FindHeader("Content-Type").value_or("");
      if (type == "image/svg+xml") {
        Check(response.body.starts_with("<svg") && response.body.ends_with("</svg>"));
      } else if (type.starts_with("text/javascript")) {
        Check(response.body == footfall::core::CounterSnippet());
      } else if (type.starts_with("text/plain")) {
        Check(response.body == "ok");
      } else {
        Check(response.body.front() == '{' && response.body.back() == '}');
      }
    }
    if (auto allow = response.FindHeader("Access-Control-Allow-Origin")) {
      Check(*allow == "https://a.example");
    }
    if (response.status >= 400) Check(store.Visits().empty());
    for (const auto& visit : store.Visits()) {
      Check(!visit.path.empty() && visit.path.front() == '/' && visit.path.size() <= 512);
      Check(visit.user_agent.size() <= 256);
    }
  });
  Check(answered);
  return 0;
}
