// libFuzzer target: arbitrary bytes as an answer from a credentials source — STS's
// AssumeRoleWithWebIdentity XML, a container/IMDS credentials JSON object — as an Expiration, and
// as SSM's GetParameter answer (the Lambda's statistics token). No parser may throw or crash;
// credentials they accept must be usable in HTTP headers, a parameter value must be bounded text.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "aws/credentials_provider.h"
#include "aws/ssm_parameter.h"

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
  for (int status : {200, 400, 500}) {
    const footfall::StatusOr<std::string> value =
        footfall::aws::ParseGetParameterAnswer(status, input);
    if (value.ok()) {
      Check(!value->empty() && value->size() <= footfall::aws::kMaxParameterValueBytes);
      for (unsigned char c : *value) Check(c >= 0x20 && c != 0x7f);
    }
  }
  return 0;
}
