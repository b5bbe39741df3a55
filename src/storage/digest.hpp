#pragma once
// Streaming digests over OpenSSL's EVP interface (MD5 for ETags, SHA-256 for SigV4).

#include <openssl/evp.h>

#include <memory>
#include <string>
#include <string_view>

namespace reelhub::storage {

std::string to_hex(const unsigned char* data, std::size_t size);

class Digest {
 public:
  explicit Digest(const EVP_MD* md);
  void update(std::string_view bytes);
  /// Lower-case hex of the digest; the object is spent afterwards.
  std::string hex();

 private:
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx_;
};

std::string md5_hex(std::string_view bytes);
/// The raw (binary) HMAC-SHA256 of `message` under `key`.
std::string hmac_sha256(std::string_view key, std::string_view message);

}  // namespace reelhub::storage
