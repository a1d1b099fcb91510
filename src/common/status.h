// Status and StatusOr: how every function that validates input or touches the
// outside world reports failure. Our code throws no exceptions (DESIGN.md 5);
// exceptions from libraries are caught at the boundary and turned into a Status.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace remora {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kFailedPrecondition,
  kPermissionDenied,
  kResourceExhausted,
  kUnavailable,
  kDeadlineExceeded,
  kInternal,
};

const char* statusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status okStatus() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "INVALID_ARGUMENT: message", or "OK".
  std::string toString() const;

  // Returns a copy whose message is "prefix: message"; used to add context
  // (a file name, a field path) as an error travels up.
  Status withPrefix(const std::string& prefix) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status invalidArgumentError(std::string m) {
  return Status(StatusCode::kInvalidArgument, std::move(m));
}
inline Status notFoundError(std::string m) {
  return Status(StatusCode::kNotFound, std::move(m));
}
inline Status alreadyExistsError(std::string m) {
  return Status(StatusCode::kAlreadyExists, std::move(m));
}
inline Status failedPreconditionError(std::string m) {
  return Status(StatusCode::kFailedPrecondition, std::move(m));
}
inline Status permissionDeniedError(std::string m) {
  return Status(StatusCode::kPermissionDenied, std::move(m));
}
inline Status unavailableError(std::string m) {
  return Status(StatusCode::kUnavailable, std::move(m));
}
inline Status internalError(std::string m) {
  return Status(StatusCode::kInternal, std::move(m));
}
// An error from a failed system call: "what: strerror(err)".
Status errnoError(const std::string& what, int err);

template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  StatusOr(Status status) : v_(std::move(status)) {  // NOLINT: implicit by design
    assert(!std::get<Status>(v_).ok());
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace remora

// Propagates a non-OK Status from an expression returning Status.
#define REMORA_RETURN_IF_ERROR(expr)                 \
  do {                                               \
    ::remora::Status remora_status_ = (expr);        \
    if (!remora_status_.ok()) return remora_status_; \
  } while (0)

#define REMORA_CONCAT_INNER(a, b) a##b
#define REMORA_CONCAT(a, b) REMORA_CONCAT_INNER(a, b)
// Declares `lhs` from a StatusOr expression, or returns its error.
#define REMORA_ASSIGN_OR_RETURN(lhs, expr)               \
  auto REMORA_CONCAT(remora_or_, __LINE__) = (expr);     \
  if (!REMORA_CONCAT(remora_or_, __LINE__).ok())         \
    return REMORA_CONCAT(remora_or_, __LINE__).status(); \
  lhs = std::move(REMORA_CONCAT(remora_or_, __LINE__)).value()
