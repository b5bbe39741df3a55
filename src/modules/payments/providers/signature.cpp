#include "signature.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <charconv>
#include <stdexcept>
#include <vector>

namespace reelhub::payments {

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
            reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &length)) {
    throw std::runtime_error("HMAC-SHA256 failed");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    out += kHex[mac[i] >> 4];
    out += kHex[mac[i] & 0xf];
  }
  return out;
}

std::string sign_webhook(std::string_view secret, std::int64_t timestamp, std::string_view body) {
  const std::string t = std::to_string(timestamp);
  return "t=" + t + ",v1=" + hmac_sha256_hex(secret, t + "." + std::string(body));
}

const char* verdict_name(SignatureVerdict verdict) {
  switch (verdict) {
    case SignatureVerdict::valid: return "valid";
    case SignatureVerdict::malformed: return "malformed";
    case SignatureVerdict::bad_signature: return "bad_signature";
    case SignatureVerdict::stale: return "stale";
  }
  return "malformed";
}

SignatureVerdict verify_webhook(std::string_view header, std::string_view secret, std::string_view body,
                                std::int64_t now, std::int64_t tolerance_seconds) {
  std::string_view timestamp;
  std::vector<std::string_view> signatures;
  while (!header.empty()) {
    const auto comma = header.find(',');
    const std::string_view item = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
    const auto eq = item.find('=');
    if (eq == std::string_view::npos) continue;
    const auto name = item.substr(0, eq), value = item.substr(eq + 1);
    if (name == "t") timestamp = value;
    else if (name == "v1") signatures.push_back(value);  // other schemes (v0) are ignored, as Stripe does
  }
  std::int64_t t = 0;
  const auto [end, ec] = std::from_chars(timestamp.data(), timestamp.data() + timestamp.size(), t);
  if (timestamp.empty() || ec != std::errc{} || end != timestamp.data() + timestamp.size() || signatures.empty())
    return SignatureVerdict::malformed;
  const std::string expected = hmac_sha256_hex(secret, std::string(timestamp) + "." + std::string(body));
  bool matched = false;
  for (const auto sig : signatures) {
    if (sig.size() == expected.size() && CRYPTO_memcmp(sig.data(), expected.data(), expected.size()) == 0)
      matched = true;
  }
  if (!matched) return SignatureVerdict::bad_signature;
  if (t < now - tolerance_seconds || t > now + tolerance_seconds) return SignatureVerdict::stale;
  return SignatureVerdict::valid;
}

}  // namespace reelhub::payments
