#include "reelhub/core/error.hpp"

namespace reelhub {

int http_status(ErrorCode code) {
  switch (code) {
    case ErrorCode::bad_request: return 400;
    case ErrorCode::unauthorized: return 401;
    case ErrorCode::payment_required: return 402;
    case ErrorCode::forbidden: return 403;
    case ErrorCode::not_found: return 404;
    case ErrorCode::method_not_allowed: return 405;
    case ErrorCode::conflict: return 409;
    case ErrorCode::payload_too_large: return 413;
    case ErrorCode::unsupported_media_type: return 415;
    case ErrorCode::range_not_satisfiable: return 416;
    case ErrorCode::validation_failed: return 422;
    case ErrorCode::rate_limited: return 429;
    case ErrorCode::internal: return 500;
    case ErrorCode::not_implemented: return 501;
    case ErrorCode::unavailable: return 503;
  }
  return 500;
}

const char* error_title(ErrorCode code) {
  switch (code) {
    case ErrorCode::bad_request: return "Bad Request";
    case ErrorCode::unauthorized: return "Unauthorized";
    case ErrorCode::payment_required: return "Payment Required";
    case ErrorCode::forbidden: return "Forbidden";
    case ErrorCode::not_found: return "Not Found";
    case ErrorCode::method_not_allowed: return "Method Not Allowed";
    case ErrorCode::conflict: return "Conflict";
    case ErrorCode::payload_too_large: return "Payload Too Large";
    case ErrorCode::unsupported_media_type: return "Unsupported Media Type";
    case ErrorCode::range_not_satisfiable: return "Range Not Satisfiable";
    case ErrorCode::validation_failed: return "Validation Failed";
    case ErrorCode::rate_limited: return "Too Many Requests";
    case ErrorCode::internal: return "Internal Server Error";
    case ErrorCode::not_implemented: return "Not Implemented";
    case ErrorCode::unavailable: return "Service Unavailable";
  }
  return "Internal Server Error";
}

ApiError database_unavailable() {
  return ApiError(ErrorCode::unavailable, "Database unavailable").with_retry_after(1);
}

ApiError server_busy() { return ApiError(ErrorCode::unavailable, "Server is busy, try again").with_retry_after(1); }

}  // namespace reelhub
