// Status and StatusOr<T>: how every fallible footfall call reports failure, without exceptions.
// Shaped like absl::Status so a later move to std::expected is mechanical. Values are immutable
// after construction and safe to share between threads.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace footfall {

enum class StatusCode {
  kOk,
  kInvalidArgument,     // the caller sent something malformed; retrying the same input fails again
  kNotFound,
  kAlreadyExists,
  kFailedPrecondition,  // the system is not in a state to do this (e.g. wrong schema version)
  kResourceExhausted,   // a limit was hit (disk full, queue full, oversized input)
  kUnavailable,         // transient: retrying later may succeed
  kDeadlineExceeded,
  kUnimplemented,
  kInternal,            // a bug or an unexpected engine state
};

// Returns the stable snake_case name of `code` ("ok", "invalid_argument", ...).
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  // An ok status.
  Status() = default;
  // A status with `code` and a human-readable `message` (for logs; never sent to clients).
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "ok" or "<code name>: <message>".
  std::string ToString() const;
  // Marks a status as deliberately not checked (e.g. best-effort cleanup).
  void IgnoreError() const {}

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status OkStatus() { return Status(); }
inline Status InvalidArgumentError(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status NotFoundError(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status AlreadyExistsError(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
inline Status FailedPreconditionError(std::string m) { return {StatusCode::kFailedPrecondition, std::move(m)}; }
inline Status ResourceExhaustedError(std::string m) { return {StatusCode::kResourceExhausted, std::move(m)}; }
inline Status UnavailableError(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status DeadlineExceededError(std::string m) { return {StatusCode::kDeadlineExceeded, std::move(m)}; }
inline Status UnimplementedError(std::string m) { return {StatusCode::kUnimplemented, std::move(m)}; }
inline Status InternalError(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

// Either a value of type T or a non-ok Status. Accessing value() of an error is a bug (asserts).
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  // Implicit from an error status. Precondition: !status.ok().
  StatusOr(Status status) : status_(std::move(status)) { assert(!status_.ok()); }  // NOLINT
  // Implicit from a value.
  StatusOr(T value) : value_(std::move(value)) {}  // NOLINT

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  const T& value() const& { assert(ok()); return *value_; }
  T& value() & { assert(ok()); return *value_; }
  T&& value() && { assert(ok()); return std::move(*value_); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace footfall

#define FOOTFALL_CONCAT_INNER(a, b) a##b
#define FOOTFALL_CONCAT(a, b) FOOTFALL_CONCAT_INNER(a, b)

// Returns from the enclosing function if `expr` (a Status) is not ok.
#define RETURN_IF_ERROR(expr)                            \
  do {                                                   \
    ::footfall::Status footfall_status_ = (expr);        \
    if (!footfall_status_.ok()) return footfall_status_; \
  } while (false)

// `ASSIGN_OR_RETURN(auto x, F());` declares x from F()'s value or returns its error.
#define ASSIGN_OR_RETURN(lhs, expr)                                         \
  auto FOOTFALL_CONCAT(footfall_or_, __LINE__) = (expr);                    \
  if (!FOOTFALL_CONCAT(footfall_or_, __LINE__).ok())                        \
    return FOOTFALL_CONCAT(footfall_or_, __LINE__).status();                \
  lhs = std::move(FOOTFALL_CONCAT(footfall_or_, __LINE__)).value()
