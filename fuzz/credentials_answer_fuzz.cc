// libFuzzer target: arbitrary bytes as an answer from a credentials source — STS's
// AssumeRoleWithWebIdentity XML, a container/IMDS credentials JSON object — and as an Expiration.
// No parser may throw or crash; credentials they accept must be usable in HTTP headers.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "aws/credentials_provider.h"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

bool HeaderSafe(std::string_view text) {
  for (char c : text) {
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return !text.empty();
}

void CheckAccepted(const footfall::StatusOr<footfall::aws::ExpiringCredentials>& parsed) {
  if (!parsed.ok()) {
    Check(parsed.status().code() != footfall::StatusCode::kOk);
    return;
  }
  Check(HeaderSafe(parsed->credentials.access_key_id));
  Check(HeaderSafe(parsed->credentials.secret_access_key));
  Check(HeaderSafe(parsed->credentials.session_token));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  CheckAccepted(footfall::aws::ParseAssumeRoleWithWebIdentityAnswer(input));
  CheckAccepted(footfall::aws::ParseCredentialsJson(input));
  (void)footfall::aws::ParseIso8601Utc(input).ok();
  return 0;
}
