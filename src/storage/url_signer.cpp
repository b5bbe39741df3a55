#include "reelhub/storage/url_signer.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <charconv>
#include <stdexcept>

#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include "digest.hpp"

namespace reelhub::storage {

// The secret may be the JWT secret: a key of its own is derived from it, so a signature made for
// one purpose is never valid for the other.
UrlSigner::UrlSigner(std::string secret)
    : secret_(secret.empty() ? throw std::invalid_argument("UrlSigner: empty secret")
                             : hmac_sha256(secret, "reelhub presigned storage URL v1")) {}

std::string UrlSigner::signature_of(const std::string& key, std::string_view expires) const {
  // A newline cannot occur in a key, so "key\nexpires" names exactly one pair.
  const std::string mac = hmac_sha256(secret_, "GET\n" + key + "\n" + std::string(expires));
  return to_hex(reinterpret_cast<const unsigned char*>(mac.data()), mac.size());
}

std::string UrlSigner::sign(const std::string& key, std::chrono::system_clock::time_point expires_at) const {
  const std::string expires =
      std::to_string(std::chrono::duration_cast<std::chrono::seconds>(expires_at.time_since_epoch()).count());
  return std::string(kPresignedPath) + boost::urls::encode(key, boost::urls::unreserved_chars) +
         "?expires=" + expires + "&signature=" + signature_of(key, expires);
}

UrlCheck UrlSigner::check(const std::string& key, std::string_view expires, std::string_view signature,
                          std::chrono::system_clock::time_point now) const {
  const std::string expected = signature_of(key, expires);
  if (signature.size() != expected.size() || CRYPTO_memcmp(signature.data(), expected.data(), expected.size()) != 0)
    return UrlCheck::bad_signature;
  long long expires_unix = 0;
  const auto [end, ec] = std::from_chars(expires.data(), expires.data() + expires.size(), expires_unix);
  if (ec != std::errc() || end != expires.data() + expires.size()) return UrlCheck::bad_signature;
  const auto now_unix = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  return now_unix < expires_unix ? UrlCheck::valid : UrlCheck::expired;
}

}  // namespace reelhub::storage
