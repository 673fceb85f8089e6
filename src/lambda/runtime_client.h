// RuntimeClient: the Lambda Runtime API (2018-06-01) as seen from a custom runtime: wait for the
// next invocation, post its response or error, or report an initialisation error. Blocking, one
// keep-alive connection to AWS_LAMBDA_RUNTIME_API. Not thread-safe: one loop thread uses it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"

namespace footfall::lambda {

struct Invocation {
  std::string request_id;    // Lambda-Runtime-Aws-Request-Id
  int64_t deadline_ms = 0;   // Lambda-Runtime-Deadline-Ms: Unix epoch milliseconds
  std::string trace_id;      // Lambda-Runtime-Trace-Id ("" if absent)
  std::string function_arn;  // Lambda-Runtime-Invoked-Function-Arn
  std::string event;         // the body
  // Set when the event was larger than the limit: `event` is empty and the invocation should be
  // answered with an error.
  bool event_too_large = false;
};

class RuntimeClient {
 public:
  // `address` is AWS_LAMBDA_RUNTIME_API ("host:port"). Errors: kInvalidArgument.
  static StatusOr<std::unique_ptr<RuntimeClient>> Create(const std::string& address,
                                                         size_t max_event_bytes);
  ~RuntimeClient();

  // Blocks (without a timeout, as the API requires) until Lambda hands out an invocation.
  // Errors: kUnavailable when the Runtime API cannot be reached or answers badly.
  StatusOr<Invocation> Next();
  // Posts the function's result for `request_id`. Errors: kUnavailable (transport),
  // kFailedPrecondition (the API refused it, e.g. 413 for an oversized response).
  Status PostResponse(const std::string& request_id, const std::string& body);
  // Posts an invocation error ({"errorMessage","errorType"}).
  Status PostError(const std::string& request_id, const std::string& error_type,
                   const std::string& message);
  // Posts an initialisation error; the runtime should exit afterwards.
  Status PostInitError(const std::string& error_type, const std::string& message);

 private:
  struct Impl;
  explicit RuntimeClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace footfall::lambda
