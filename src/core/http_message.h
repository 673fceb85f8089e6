// Request and Response: the protocol-neutral values the core handles. The HTTP server and the
// Lambda adapter translate their wire formats to and from these; nothing here does I/O.
// Plain values: safe to move between threads, not to mutate concurrently.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace footfall::core {

struct Header {
  std::string name;  // as received; compared case-insensitively
  std::string value;
};

struct Request {
  std::string method;          // "GET", "OPTIONS", ... (upper case, as on the wire)
  std::string target;          // origin-form: path plus optional "?query"
  std::vector<Header> headers;
  std::string peer_address;    // the socket peer (or API Gateway's sourceIp): never stored/logged
  std::string request_id;      // for logs; the adapter assigns it
  // When the answer is due (Lambda: the invocation deadline). Store calls give up after it.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  std::string body{};          // at most the adapter's body limit

  // Returns the first header named `name` (case-insensitive), if any.
  std::optional<std::string_view> FindHeader(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::vector<Header> headers;  // Content-Type included when there is a body
  std::string body;
  // Not sent: how many visits the store committed in the same batch as this one (0 if no write).
  int store_batch_size = 0;
  // Not sent: the route template that handled the request ("/count", "unknown"), for logs.
  std::string route;
  // Not sent: whether answering needed a store call (for latency metrics).
  bool used_store = false;
  // Not sent: the internal error behind a 5xx, for logs only (never client data, never sent).
  std::string internal_error;

  void AddHeader(std::string name, std::string value) {
    headers.push_back({std::move(name), std::move(value)});
  }
  // Returns the first header named `name` (case-insensitive), if any.
  std::optional<std::string_view> FindHeader(std::string_view name) const;
};

// True if `a` and `b` are equal ignoring ASCII case.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

}  // namespace footfall::core
