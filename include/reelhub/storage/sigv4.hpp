#pragma once
// AWS Signature Version 4 (HMAC-SHA256 through OpenSSL): the Authorization header of an S3
// request and the query string of a presigned GET. Pure functions of their inputs, tested
// against AWS's published test vectors (tests/unit/sigv4_test.cpp).

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace reelhub::storage::sigv4 {

struct Credentials {
  std::string access_key;
  std::string secret_key;
};

/// Region and service of the credential scope ("us-east-1", "s3").
struct Scope {
  std::string region;
  std::string service = "s3";
};

/// What is signed of a request.
struct Request {
  std::string method;
  std::string path = "/";  // the URI path, already URI-encoded as it goes on the wire
  std::vector<std::pair<std::string, std::string>> query;    // decoded names and values
  std::vector<std::pair<std::string, std::string>> headers;  // names in any case; Host included
  std::string payload_hash;  // hex SHA-256 of the body, or "UNSIGNED-PAYLOAD"
};

inline constexpr std::string_view kEmptyPayloadHash =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// RFC 3986 percent-encoding of everything but unreserved characters (and '/' unless
/// `encode_slash`), upper-case hex, as SigV4 requires.
std::string uri_encode(std::string_view s, bool encode_slash);
/// "20150830T123600Z"
std::string amz_date(std::chrono::system_clock::time_point t);
std::string sha256_hex(std::string_view data);

/// The canonical request (task 1 of the signing process).
std::string canonical_request(const Request& request);
/// The value of the Authorization header for `request`, which must carry the X-Amz-Date header
/// of `now` (and x-amz-content-sha256 for S3).
std::string authorization(const Request& request, const Credentials& credentials, const Scope& scope,
                          std::chrono::system_clock::time_point now);
/// The query string of a presigned `method` request for `path` on `host`, valid for `expires`
/// from `now` (X-Amz-Algorithm ... X-Amz-Signature, signed headers: host; payload unsigned).
std::string presigned_query(std::string_view method, std::string_view path, std::string_view host,
                            const Credentials& credentials, const Scope& scope,
                            std::chrono::system_clock::time_point now, std::chrono::seconds expires);

}  // namespace reelhub::storage::sigv4
