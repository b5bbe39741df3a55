#pragma once
// The one error type of Reelhub: every failure a client may see is an ApiError, and
// http::error_response() is the only place that turns it into a status and a JSON body.

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace reelhub {

/// Closed set of machine codes; each maps to exactly one HTTP status.
enum class ErrorCode {
  bad_request,             // 400 malformed JSON, bad query
  unauthorized,            // 401 missing/invalid token or credentials
  payment_required,        // 402 not enough money in the account to be debited
  forbidden,               // 403 authenticated but not allowed
  not_found,               // 404
  method_not_allowed,      // 405
  conflict,                // 409 duplicate email, state clash
  payload_too_large,       // 413
  unsupported_media_type,  // 415
  range_not_satisfiable,   // 416
  validation_failed,       // 422 with per-field details
  rate_limited,            // 429 with Retry-After
  internal,                // 500, never for bad input
  not_implemented,         // 501 a method this server does not implement at all
  unavailable,             // 503 dependency down or overloaded
};

/// Field name -> messages, the `details` object of a 422.
using FieldErrors = std::map<std::string, std::vector<std::string>>;

class ApiError : public std::runtime_error {
 public:
  ApiError(ErrorCode code, std::string message, FieldErrors details = {})
      : std::runtime_error(message), code_(code), details_(std::move(details)) {}

  ErrorCode code() const { return code_; }
  const FieldErrors& details() const { return details_; }
  /// Seconds a client should wait before retrying (429 and 503); 0 when not set.
  int retry_after() const { return retry_after_; }
  ApiError& with_retry_after(int seconds) {
    retry_after_ = seconds;
    return *this;
  }
  /// A machine code naming which limit or rule refused the request, where the status alone
  /// does not tell (e.g. `storage_quota_exceeded` on a 413); empty when not set.
  const std::string& reason() const { return reason_; }
  ApiError& with_reason(std::string reason) {
    reason_ = std::move(reason);
    return *this;
  }

 private:
  ErrorCode code_;
  FieldErrors details_;
  int retry_after_ = 0;
  std::string reason_;
};

/// 503 for a database that is unreachable or dropped the connection: retry shortly.
ApiError database_unavailable();
/// 503 for blocking work that found no free worker in time: retry shortly.
ApiError server_busy();

int http_status(ErrorCode code);
/// The `error` field of the body: the reason phrase ("Not Found", "Validation Failed", ...).
const char* error_title(ErrorCode code);

}  // namespace reelhub
