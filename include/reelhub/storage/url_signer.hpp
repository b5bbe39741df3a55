#pragma once
// Presigned GET URLs of the local backend: Reelhub signs and serves them itself. The signature
// is HMAC-SHA256 over the object key and the expiry, under a server secret that every instance
// sharing the media root shares; it is checked in constant time.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace reelhub::storage {

/// Where the local backend serves its presigned URLs: kPresignedPath + percent-encoded key.
inline constexpr std::string_view kPresignedPath = "/storage/objects/";

enum class UrlCheck { valid, expired, bad_signature };

class UrlSigner {
 public:
  /// `secret` must not be empty.
  explicit UrlSigner(std::string secret);

  /// Path and query of the URL: "/storage/objects/<key, '/' as %2F>?expires=<unix>&signature=<hex>".
  std::string sign(const std::string& key, std::chrono::system_clock::time_point expires_at) const;
  /// Checks a URL's parts as the router decoded them. A signature that does not match `key` and
  /// `expires` is bad_signature whatever the time; a matching one past `expires` is expired.
  UrlCheck check(const std::string& key, std::string_view expires, std::string_view signature,
                 std::chrono::system_clock::time_point now) const;

 private:
  std::string signature_of(const std::string& key, std::string_view expires) const;
  std::string secret_;
};

}  // namespace reelhub::storage
