// The one error map: ErrorCode -> HTTP status and title, and the JSON body error_response() builds.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "reelhub/core/error.hpp"
#include "reelhub/http/message.hpp"

namespace reelhub {
namespace {

using nlohmann::json;

struct CodeCase {
  ErrorCode code;
  int status;
  const char* title;
};

// One row per enumerator: adding a code without a row here is caught by the count check below.
const CodeCase kCodes[] = {
    {ErrorCode::bad_request, 400, "Bad Request"},
    {ErrorCode::unauthorized, 401, "Unauthorized"},
    {ErrorCode::payment_required, 402, "Payment Required"},
    {ErrorCode::forbidden, 403, "Forbidden"},
    {ErrorCode::not_found, 404, "Not Found"},
    {ErrorCode::method_not_allowed, 405, "Method Not Allowed"},
    {ErrorCode::conflict, 409, "Conflict"},
    {ErrorCode::payload_too_large, 413, "Payload Too Large"},
    {ErrorCode::unsupported_media_type, 415, "Unsupported Media Type"},
    {ErrorCode::range_not_satisfiable, 416, "Range Not Satisfiable"},
    {ErrorCode::validation_failed, 422, "Validation Failed"},
    {ErrorCode::rate_limited, 429, "Too Many Requests"},
    {ErrorCode::internal, 500, "Internal Server Error"},
    {ErrorCode::not_implemented, 501, "Not Implemented"},
    {ErrorCode::unavailable, 503, "Service Unavailable"},
};

TEST(ErrorMap, EveryCodeHasItsStatusAndTitle) {
  static_assert(std::size(kCodes) == static_cast<std::size_t>(ErrorCode::unavailable) + 1,
                "a new ErrorCode needs a row in kCodes");
  for (const auto& c : kCodes) {
    SCOPED_TRACE(c.title);
    EXPECT_EQ(http_status(c.code), c.status);
    EXPECT_STREQ(error_title(c.code), c.title);
  }
}

TEST(ErrorMap, ResponseBodyForEveryCode) {
  for (const auto& c : kCodes) {
    SCOPED_TRACE(c.title);
    const auto res = http::error_response(ApiError(c.code, "something went wrong"));
    EXPECT_EQ(res.status, c.status);
    EXPECT_EQ(res.headers.at("Content-Type"), "application/json; charset=utf-8");
    EXPECT_EQ(json::parse(res.body),
              (json{{"error", c.title}, {"message", "something went wrong"}, {"code", c.status}}));
    EXPECT_EQ(res.headers.count("Retry-After"), 0u);
    EXPECT_FALSE(res.file.has_value());
  }
}

TEST(ErrorResponse, ValidationDetailsListEveryField) {
  const ApiError e(ErrorCode::validation_failed, "Invalid input data",
                   {{"email", {"is required"}}, {"password", {"must be at least 8 characters", "too common"}}});
  const auto res = http::error_response(e);
  EXPECT_EQ(res.status, 422);
  EXPECT_EQ(json::parse(res.body), json::parse(R"({
    "error": "Validation Failed",
    "message": "Invalid input data",
    "code": 422,
    "details": {"email": ["is required"], "password": ["must be at least 8 characters", "too common"]}
  })"));
}

TEST(ErrorResponse, RetryAfterInBodyAndHeader) {
  const auto res = http::error_response(ApiError(ErrorCode::rate_limited, "Slow down").with_retry_after(17));
  EXPECT_EQ(res.status, 429);
  EXPECT_EQ(res.headers.at("Retry-After"), "17");
  EXPECT_EQ(json::parse(res.body),
            (json{{"error", "Too Many Requests"}, {"message", "Slow down"}, {"code", 429}, {"retry_after", 17}}));
}

TEST(ErrorResponse, ReasonNamesTheLimit) {
  const auto res =
      http::error_response(ApiError(ErrorCode::payload_too_large, "Storage quota exceeded").with_reason("storage_quota_exceeded"));
  EXPECT_EQ(res.status, 413);
  EXPECT_EQ(json::parse(res.body), (json{{"error", "Payload Too Large"},
                                         {"message", "Storage quota exceeded"},
                                         {"code", 413},
                                         {"reason", "storage_quota_exceeded"}}));
}

TEST(ErrorResponse, UnavailableWithRetryAfter) {
  const auto res = http::error_response(ApiError(ErrorCode::unavailable, "Database unavailable").with_retry_after(1));
  EXPECT_EQ(res.status, 503);
  EXPECT_EQ(res.headers.at("Retry-After"), "1");
  EXPECT_EQ(json::parse(res.body).at("retry_after"), 1);
}

TEST(ErrorResponse, MessageIsValidJsonEvenWithQuotesAndInvalidUtf8) {
  const auto res = http::error_response(ApiError(ErrorCode::bad_request, "bad \"x\"\n\xff"));
  const auto body = json::parse(res.body);  // must not throw
  EXPECT_EQ(body.at("message"), "bad \"x\"\n\xEF\xBF\xBD");
}

TEST(ApiErrorType, KeepsCodeDetailsAndIsARuntimeError) {
  ApiError e(ErrorCode::conflict, "Email already registered", {{"email", {"is taken"}}});
  EXPECT_EQ(e.code(), ErrorCode::conflict);
  EXPECT_STREQ(e.what(), "Email already registered");
  EXPECT_EQ(e.details(), (FieldErrors{{"email", {"is taken"}}}));
  EXPECT_EQ(e.retry_after(), 0);
  const std::runtime_error& base = e;
  EXPECT_STREQ(base.what(), "Email already registered");
}

}  // namespace
}  // namespace reelhub
