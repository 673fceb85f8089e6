// Steps of SignV4 exposed so tests can compare each one with botocore's. Not for other callers.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "aws/sigv4.h"
#include "base/clock.h"

namespace footfall::aws::internal {

// Returns `now` as SigV4's timestamp, "YYYYMMDD'T'HHMMSS'Z'" in UTC, truncated to whole seconds.
// Precondition: the year is in 0000..9999.
std::string AmzDate(TimePoint now);

struct CanonicalRequest {
  std::string text;            // the canonical request, whose SHA-256 goes into the string to sign
  std::string signed_headers;  // "content-type;host;x-amz-date", for the Authorization header
};

// Returns the canonical request for `request` sent at `amz_date` (from AmzDate) with
// `session_token` ("" for none) in X-Amz-Security-Token.
CanonicalRequest BuildCanonicalRequest(const SignableRequest& request, std::string_view amz_date,
                                       std::string_view session_token);

// Returns the string to sign for `canonical_request` at `amz_date` within `scope`
// ("YYYYMMDD/region/service/aws4_request").
std::string StringToSign(std::string_view canonical_request, std::string_view amz_date,
                         std::string_view scope);

}  // namespace footfall::aws::internal
