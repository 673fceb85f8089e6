// AWS Signature Version 4 for requests footfall sends to AWS services (DynamoDB's JSON API).
// Pure functions (the time is passed in); thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/clock.h"

namespace footfall::aws {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // "" unless temporary credentials (Lambda always has one)
};

struct SignableRequest {
  std::string method;  // as sent, upper case: "POST"
  // Host header value as sent, with ":port" only when not the scheme default (443/80), e.g.
  // "dynamodb.eu-west-1.amazonaws.com" or "127.0.0.1:5000". Sign never adds a Host header: the
  // HTTP client must send exactly this value.
  std::string host;
  // Path as sent (already percent-encoded once), e.g. "/"; "" means "/". Sign normalizes it
  // ("." and ".." segments, repeated '/') and percent-encodes it again, as SigV4 requires for every
  // service except S3 (which this signer does not support).
  std::string path;
  // Query string as sent, without '?'; "" if none. Percent-escapes are decoded and re-encoded per
  // RFC 3986 before sorting, so any valid encoding signs the same. '+' is a literal plus: send
  // spaces as %20.
  std::string query;
  // Headers that will be sent and must be signed, in the order sent. Names in any case; values are
  // trimmed and runs of spaces/tabs collapsed for signing; repeated names are signed as one header
  // with the values joined by ','. Entries named host, x-amz-date, x-amz-security-token or
  // authorization are ignored: Sign supplies those itself. Leave out hop-by-hop headers
  // (Connection, Expect, Transfer-Encoding...) and User-Agent: proxies may rewrite them, and
  // botocore never signs them. No CR or LF in names or values.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // signed as the hex SHA-256 of these bytes (no UNSIGNED-PAYLOAD)
};

// Returns the headers to add to the request: "X-Amz-Date", "X-Amz-Security-Token" (only with a
// session token) and "Authorization", in that order, signed for `region` and `service` at `now`
// (truncated to whole seconds, UTC). The signed headers are host, x-amz-date,
// x-amz-security-token (with a session token) and every entry of `request.headers`.
// Never fails: a libcrypto that cannot compute SHA-256/HMAC (allocation failure, no default
// provider) aborts the process.
std::vector<std::pair<std::string, std::string>> SignV4(const SignableRequest& request,
                                                         const Credentials& credentials,
                                                         std::string_view region,
                                                         std::string_view service, TimePoint now);

}  // namespace footfall::aws
