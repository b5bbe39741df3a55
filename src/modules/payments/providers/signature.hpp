#pragma once
// Timestamped HMAC-SHA256 webhook signatures in Stripe's scheme: the header is
// `t=<unix seconds>,v1=<hex HMAC of "<t>.<body>">` (more v1= entries allowed while a secret
// rotates). The sandbox provider signs with it and the Stripe adapter verifies with it.

#include <cstdint>
#include <string>
#include <string_view>

namespace reelhub::payments {

/// HMAC-SHA256 of `data` under `key` (OpenSSL), lower-case hex.
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

/// The header value signing `body` at `timestamp`.
std::string sign_webhook(std::string_view secret, std::int64_t timestamp, std::string_view body);

enum class SignatureVerdict { valid, malformed, bad_signature, stale };
/// A bounded metrics label.
const char* verdict_name(SignatureVerdict verdict);

/// Valid when some v1= entry is the HMAC of `<t>.<body>` (compared in constant time) and `t` is
/// within `tolerance_seconds` of `now` either way: a captured delivery replayed later is stale.
SignatureVerdict verify_webhook(std::string_view header, std::string_view secret, std::string_view body,
                                std::int64_t now, std::int64_t tolerance_seconds);

}  // namespace reelhub::payments
