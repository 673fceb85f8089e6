// libFuzzer target: arbitrary bytes as a request arriving over a connection, in pieces (the first
// byte picks the piece size, the second the header limit), through the HTTP session's own header
// scan (http::ScanHeader) and then, for a complete header, Beast's request parser configured as the
// session configures it. The scan must never fail, must agree with a scan of the whole input at
// once (the `scanned` shortcut must not miss a blank line split across pieces), and must respect
// the limit; the parser must not crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <utility>  // before Asio/Beast: Boost 1.74 misses this include in C++20

#include <boost/beast/http.hpp>

#include "http/header_scan.h"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using footfall::http::HeaderScan;
  if (size < 2) return 0;
  const size_t piece = 1 + data[0] % 64;
  const size_t limit = 16 + size_t{data[1]} * 16;
  const std::string_view input(reinterpret_cast<const char*>(data + 2), size - 2);

  HeaderScan scan;
  size_t received = 0;
  while (true) {
    received = std::min(input.size(), received + piece);
    scan = footfall::http::ScanHeader(input.substr(0, received), scan.scanned, limit);
    if (scan.state != HeaderScan::State::kNeedMore || received == input.size()) break;
  }
  const HeaderScan whole = footfall::http::ScanHeader(input.substr(0, received), 0, limit);
  Check(scan.state == whole.state);
  if (scan.state != HeaderScan::State::kComplete) return 0;
  Check(scan.end == whole.end && scan.end <= limit && scan.end <= received);
  Check(input.substr(scan.end - 4, 4) == "\r\n\r\n");

  namespace bhttp = boost::beast::http;
  bhttp::request_parser<bhttp::string_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(limit));
  parser.body_limit(4096);
  boost::beast::error_code error;
  parser.put(boost::asio::buffer(input.data(), input.size()), error);
  return 0;
}
