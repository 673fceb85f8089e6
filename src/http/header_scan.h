// ScanHeader: where the header of a request being received ends, decided before Beast's parser
// sees it. Beast 1.74 checks its header limit only against the bytes of one put(), so a header that
// arrives in pieces could grow past the limit: the session buffers until the header is complete
// and applies the limit itself, with this function. Pure; thread-safe; fuzzed by
// fuzz/header_scan_fuzz.cc.
#pragma once

#include <cstddef>
#include <string_view>

namespace footfall::http {

struct HeaderScan {
  enum class State {
    kNeedMore,  // no header end yet, and still under the limit: read more
    kComplete,  // the header ends (with its blank line) at `end`, within the limit
    kTooLarge,  // the header is, or will be, over the limit: answer 431
  };
  State state = State::kNeedMore;
  size_t end = 0;  // kComplete: bytes of the header, its final "\r\n\r\n" included
  // The `scanned` to pass with the next, longer `buffered`.
  size_t scanned = 0;
};

// Looks for the end of the header in `buffered` (everything received of the request so far),
// skipping the first `scanned` bytes already searched (from an earlier call on a prefix of
// `buffered`). `limit`: the most bytes a header may have, blank line included.
HeaderScan ScanHeader(std::string_view buffered, size_t scanned, size_t limit);

}  // namespace footfall::http
