#pragma once
// Access tokens (JWT HS256 via libjwt) and password hashing (argon2id via libsodium).
// Core, not a module: the HTTP layer verifies bearer tokens for every module.

#include <chrono>
#include <optional>
#include <string>

#include "reelhub/auth/identity.hpp"

namespace reelhub::auth {

class TokenSigner {
 public:
  TokenSigner(std::string secret, int ttl_seconds, int leeway_seconds);

  /// Signs {sub, username, role, sid, iat, exp, iss}.
  std::string issue(const AuthUser& user) const;
  int ttl_seconds() const { return ttl_seconds_; }
  /// Verifies signature, alg == HS256, iss, exp/iat/nbf with leeway. Throws ApiError(unauthorized).
  AuthUser verify(const std::string& token) const;
  /// Same as verify() at a chosen "now" (tests of expiry and skew).
  AuthUser verify_at(const std::string& token, std::chrono::system_clock::time_point now) const;
  std::string issue_at(const AuthUser& user, std::chrono::system_clock::time_point now) const;

 private:
  std::string secret_;
  int ttl_seconds_;
  int leeway_seconds_;
};

/// argon2id with libsodium's interactive limits. Slow on purpose (~70 ms): call off io threads.
std::string hash_password(const std::string& password);
bool verify_password(const std::string& hash, const std::string& password);

}  // namespace reelhub::auth
