#pragma once

#include <cstddef>
#include <string>

namespace reelhub {

/// `bytes` random bytes from libsodium, hex encoded.
std::string random_hex(std::size_t bytes);
/// `bytes` random bytes as lowercase hex, for ids that must be unique but need not be secret
/// (request ids): drawn from a per-thread generator seeded once from the CSPRNG, so an id costs
/// no system call. Never for tokens, keys or anything a guess could exploit: use random_hex.
std::string unique_hex(std::size_t bytes);
/// `bytes` random bytes from libsodium, base64url without padding (tokens, secrets).
std::string random_token(std::size_t bytes);
/// Lower-case hex SHA-256 of `data` (what we store instead of bearer secrets).
std::string sha256_hex(const std::string& data);

}  // namespace reelhub
