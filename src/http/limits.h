// Limits the HTTP adapter puts on every connection, so no client can hold unbounded memory or
// time. A plain value; the defaults are what `footfall serve` uses (each has a flag, see
// docs/operations.md "Limits").
#pragma once

#include <chrono>
#include <cstddef>

namespace footfall::http {

struct HttpLimits {
  // Request line plus headers; larger answers 431 and closes. Browsers send ~1-2 KiB.
  size_t max_header_bytes = 8 * 1024;
  // Request body; larger answers 413 and closes. footfall's routes take no body.
  size_t max_body_bytes = 16 * 1024;
  // Time allowed to receive one whole request (headers and body), from its first byte. A request
  // not complete by then (e.g. a slowloris client trickling headers) answers 408 and closes.
  std::chrono::milliseconds read_timeout = std::chrono::seconds(10);
  // Time a connection may wait for the first byte of its next request (including the first
  // request of a new connection). Past it the connection is closed without an answer.
  std::chrono::milliseconds idle_timeout = std::chrono::seconds(5);
  // Time allowed to send one response; past it the connection is closed.
  std::chrono::milliseconds write_timeout = std::chrono::seconds(10);
  // Open connections beyond this are accepted and closed at once, without an answer.
  size_t max_connections = 10000;
  // Requests served on one connection; the last one's answer carries `Connection: close`.
  size_t max_requests_per_connection = 100000;
  // Requests are answered one at a time, in order; pipelined ones wait unread (in the bounded read
  // buffer and the socket). A request counts as pipelined when its first bytes had already been
  // read (with the previous request) when the previous one was answered. The answer to the
  // max_pipelined_requests-th pipelined request in a row carries `Connection: close`, and what
  // else was pipelined is discarded unanswered (RFC 9112 §9.3.2: the client resends it on a new
  // connection).
  size_t max_pipelined_requests = 16;
};

}  // namespace footfall::http
