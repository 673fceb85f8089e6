// Parsers of what credential sources answer: STS's AssumeRoleWithWebIdentity XML, the container
// and IMDS credentials JSON, and the ISO 8601 times in them. Pure functions of untrusted input
// (fuzzed by fuzz/credentials_answer_fuzz.cc) that never throw. Thread-safe.
#pragma once

#include <string_view>

#include "aws/sigv4.h"
#include "base/clock.h"
#include "base/status.h"

namespace footfall::aws {

// Credentials and the moment they stop working.
struct ExpiringCredentials {
  Credentials credentials;
  TimePoint expiration = TimePoint::max();  // max: never (static credentials)
};

// Parses STS's AssumeRoleWithWebIdentity answer (the Query API's XML: AccessKeyId,
// SecretAccessKey, SessionToken and Expiration under AssumeRoleWithWebIdentityResult/Credentials).
// Strict: each element exactly once, plain text (the five XML entities and character references
// decoded), keys of plausible form and length, Expiration in ISO 8601 UTC. Never throws.
// Errors: kUnavailable naming what is missing or malformed (never a value).
StatusOr<ExpiringCredentials> ParseAssumeRoleWithWebIdentityAnswer(std::string_view xml);

// Parses a container credentials or IMDS credentials answer: a JSON object with string fields
// AccessKeyId, SecretAccessKey, Token and Expiration (other fields ignored, except an IMDS "Code",
// which must be "Success" when present). Never throws. Errors: kUnavailable as above.
StatusOr<ExpiringCredentials> ParseCredentialsJson(std::string_view json);

// Parses "2026-12-05T15:37:55Z", with optional fractional seconds (any number of digits, truncated
// to milliseconds) and "Z" or "+00:00"; years 1970 to 2200 (TimePoint ends in 2262).
// Errors: kInvalidArgument.
StatusOr<TimePoint> ParseIso8601Utc(std::string_view text);

}  // namespace footfall::aws
