// DynamoDbClient: calls DynamoDB's JSON API (signed with SigV4) on one endpoint, repeating failed
// attempts as dynamodb_errors.h rules, with exponential back-off and full jitter, up to a number
// of attempts and the call's deadline. Shared by the store's request path and its aggregate
// writer. Thread-safe; callbacks run on the HTTP client's thread and must not block.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "aws/credentials_provider.h"
#include "aws/http_client.h"
#include "aws/sigv4.h"
#include "base/status.h"
#include "store/store.h"

namespace footfall::store::dynamodb {

using json = nlohmann::json;

struct DynamoDbClientOptions {
  std::string table;   // the table every item of footfall lives in
  std::string region;  // signing region
  aws::Credentials credentials;
  // When set, credentials come from it instead (refreshed as they expire; an ExpiredToken answer
  // renews them and repeats the call once).
  std::shared_ptr<aws::CredentialsProvider> credentials_provider;
  aws::HttpClientOptions http;
  int max_attempts = 8;  // attempts per call, counting the first
  // X-Amz-Target prefix: DynamoDB's; "DynamoDBStreams_20120810." for the Streams API, which
  // signs as "dynamodb" too.
  std::string target_prefix = "DynamoDB_20120810.";
};

// The outcome of one call after its retries.
struct CallResult {
  Status status;
  json body;                     // the response, when ok
  std::string error_type;        // DynamoDB's error type (after '#'), when an error response came
  json error_body;               // that error response (e.g. CancellationReasons), else null
  bool earlier_attempt_unknown = false;  // an earlier attempt may have been applied
};

// What one HTTP answer from DynamoDB says: ok with its body (a JSON object) and the capacity it
// reports, or an error (dynamodb_errors.h's MapError of its `__type`, its message cut to 500
// bytes) with the type and the error body. Any bytes at all give one or the other, never an
// exception. Pure; thread-safe; fuzzed by fuzz/dynamodb_answer_fuzz.cc.
struct ParsedAnswer {
  CallResult result;  // status, body or error_type/error_body
  double capacity_units = 0;
};
ParsedAnswer ParseAnswer(int http_status, std::string_view body);

// What the client has asked of DynamoDB since it was made: requests sent (each attempt) and the
// capacity units DynamoDB reported consuming (ReturnConsumedCapacity=TOTAL on every data call;
// AWS's own count — moto reports its own figures, which do not follow AWS's rules).
struct DynamoDbUsage {
  int64_t requests = 0;
  double consumed_capacity = 0;
};

class DynamoDbClient : public std::enable_shared_from_this<DynamoDbClient> {
 public:
  // Errors: kInvalidArgument (a bad CA file).
  static StatusOr<std::shared_ptr<DynamoDbClient>> Create(DynamoDbClientOptions options);

  // Calls `operation` (e.g. "PutItem") with `body`. A call that is not `idempotent` is repeated
  // only when the failed attempt certainly was not applied. `done` is called once.
  void Invoke(std::string operation, json body, bool idempotent, Deadline deadline,
              std::function<void(CallResult)> done);

  // Runs `fn` on the HTTP thread after `delay`.
  void After(std::chrono::milliseconds delay, std::function<void()> fn);

  // A uniformly random delay in [0, min(1 s, 25 ms × 2^attempt)) (full jitter).
  std::chrono::milliseconds Backoff(int attempt);

  // `deadline`, or 10 s from now if that is sooner: no call runs unbounded.
  static Deadline Effective(Deadline deadline);

  const std::string& table() const { return options_.table; }
  const DynamoDbClientOptions& options() const { return options_; }

  // Stops the HTTP thread; calls in flight fail with kUnavailable. For the owner's destructor.
  void Shutdown();

  DynamoDbUsage Usage() const;

 private:
  struct Call;
  explicit DynamoDbClient(DynamoDbClientOptions options);
  // Gets credentials (the provider's, else the static ones), then sends.
  void Attempt(std::shared_ptr<Call> call);
  void Send(std::shared_ptr<Call> call, const aws::Credentials& credentials);

  DynamoDbClientOptions options_;
  std::unique_ptr<aws::AsyncHttpClient> http_;
  std::mutex rng_mu_;
  std::mt19937_64 rng_{std::random_device{}()};
  mutable std::mutex usage_mu_;
  DynamoDbUsage usage_;
};

// Attribute values in DynamoDB's JSON form.
inline json S(const std::string& value) { return {{"S", value}}; }
inline json N(int64_t value) { return {{"N", std::to_string(value)}}; }
// Reads an {"N": "123"} attribute of `item`; nullopt when missing or malformed (never throws).
std::optional<int64_t> NumberAttribute(const json& item, const char* name);
// Reads an {"S": "text"} attribute of `item`; nullopt when missing or not a string.
std::optional<std::string> StringAttribute(const json& item, const char* name);
// The member `name` of `value` if `value` is an object holding it, else null (never throws).
const json& Member(const json& value, const char* name);

}  // namespace footfall::store::dynamodb
