#include "http/header_scan.h"

namespace footfall::http {

HeaderScan ScanHeader(std::string_view buffered, size_t scanned, size_t limit) {
  // The blank line may straddle what was searched and what is new: back up three bytes.
  const size_t from = scanned > 3 ? scanned - 3 : 0;
  const size_t found = buffered.find("\r\n\r\n", from);
  HeaderScan scan;
  scan.scanned = buffered.size();
  if (found != std::string_view::npos) {
    scan.end = found + 4;
    scan.state = scan.end <= limit ? HeaderScan::State::kComplete : HeaderScan::State::kTooLarge;
  } else if (buffered.size() >= limit) {
    scan.state = HeaderScan::State::kTooLarge;
  }
  return scan;
}

}  // namespace footfall::http
