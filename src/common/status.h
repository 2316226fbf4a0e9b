// Status and Result<T>: how kizuna reports expected failures (bad input, I/O,
// a partner's bad answer) as values instead of exceptions.
//
// A Status is either ok or carries a Code and a message a person understands.
// Result<T> holds either a T or a non-ok Status. Both are cheap to move and
// are not thread-safe (like any value type).
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace kizuna {

enum class Code {
  kOk = 0,
  kInvalidArgument,   // the caller's input is wrong (maps to HTTP 400/422)
  kNotFound,          // 404
  kAlreadyExists,     // 409, or a no-op where idempotence is wanted
  kPermissionDenied,  // 403
  kUnauthenticated,   // 401
  kTooLarge,          // 413
  kUnsupported,       // 406/415
  kFailedPrecondition,
  kUnavailable,  // transient: a peer is down, a lock is busy
  kInternal,     // a bug or a broken environment
  kIoError,
};

// Short lower-case name of a code, e.g. "not found".
const char* CodeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "not found: collection abc" style text for logs and CLI errors.
  std::string ToString() const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
inline Status AlreadyExists(std::string m) { return {Code::kAlreadyExists, std::move(m)}; }
inline Status PermissionDenied(std::string m) { return {Code::kPermissionDenied, std::move(m)}; }
inline Status Unauthenticated(std::string m) { return {Code::kUnauthenticated, std::move(m)}; }
inline Status TooLarge(std::string m) { return {Code::kTooLarge, std::move(m)}; }
inline Status Unsupported(std::string m) { return {Code::kUnsupported, std::move(m)}; }
inline Status FailedPrecondition(std::string m) {
  return {Code::kFailedPrecondition, std::move(m)};
}
inline Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
inline Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }
inline Status IoError(std::string m) { return {Code::kIoError, std::move(m)}; }

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(v_).ok() && "Result from an ok Status has no value");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(v_);
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

// Prints `status` as one line on stderr ("kizuna: …", line breaks in the
// message made spaces) and returns the command's exit code: 2 for bad input,
// 1 otherwise.
int ReportFailure(const Status& status);

}  // namespace kizuna

// Returns early from the enclosing function when `expr` (a Status) is not ok.
#define KIZUNA_RETURN_IF_ERROR(expr) \
  do {                               \
    ::kizuna::Status _st = (expr);   \
    if (!_st.ok()) return _st;       \
  } while (0)

#define KIZUNA_CONCAT_INNER(a, b) a##b
#define KIZUNA_CONCAT(a, b) KIZUNA_CONCAT_INNER(a, b)
// Declares `lhs` from a Result-returning `expr`, or returns its Status.
#define KIZUNA_ASSIGN_OR_RETURN(lhs, expr) \
  KIZUNA_ASSIGN_OR_RETURN_IMPL(KIZUNA_CONCAT(_res_, __LINE__), lhs, expr)
#define KIZUNA_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()
