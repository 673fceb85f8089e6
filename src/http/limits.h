// Limits the HTTP adapter puts on every connection, so no client can hold unbounded memory or
// time. A plain value; the defaults are what `footfall serve` uses.
#pragma once

#include <chrono>
#include <cstddef>

namespace footfall::http {

struct HttpLimits {
  // Request line plus headers; larger answers 431. Browsers send ~1-2 KiB.
  size_t max_header_bytes = 8 * 1024;
  // Request body; larger answers 413. footfall's routes take no body.
  size_t max_body_bytes = 16 * 1024;
  // Time allowed to receive one whole request (headers and body), and the idle time between
  // keep-alive requests. Slow or silent clients are disconnected after it.
  std::chrono::milliseconds read_timeout = std::chrono::seconds(10);
  // Time allowed to send one response.
  std::chrono::milliseconds write_timeout = std::chrono::seconds(10);
  // Open connections beyond this are closed at once.
  size_t max_connections = 10000;
  // Requests served on one connection before it is closed (bounds pipelining per connection).
  size_t max_requests_per_connection = 100000;
};

}  // namespace footfall::http
