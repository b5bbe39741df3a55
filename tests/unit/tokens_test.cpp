// Access-token signing/verification (alg pinning, time claims with leeway) and password hashing.

#include <gtest/gtest.h>
#include <jwt.h>
#include <sodium.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "reelhub/auth/tokens.hpp"
#include "reelhub/core/error.hpp"

namespace reelhub::auth {
namespace {

using std::chrono::seconds;
using Clock = std::chrono::system_clock;

const std::string kSecret = "unit-test-secret-0123456789abcdef";
constexpr int kTtl = 3600;
constexpr int kLeeway = 30;
const Clock::time_point kT0{seconds{1'700'000'000}};
const std::int64_t kT0s = 1'700'000'000;

const auth::AuthUser kAlice{42, "alice", auth::Role::streamer, "0b5a7f3e-8c1d-4f6a-9e2b-3c4d5e6f7a8b"};

std::string b64url(const std::string& raw) {
  const auto variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  std::string out(sodium_base64_ENCODED_LEN(raw.size(), variant), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(raw.data()), raw.size(), variant);
  out.resize(out.find('\0'));
  return out;
}

/// Signs arbitrary claims with libjwt directly, so tests can build tokens TokenSigner never would.
std::string sign(const nlohmann::json& claims, jwt_alg_t alg = JWT_ALG_HS256, const std::string& secret = kSecret) {
  jwt_t* raw = nullptr;
  EXPECT_EQ(jwt_new(&raw), 0);
  std::unique_ptr<jwt_t, void (*)(jwt_t*)> jwt(raw, jwt_free);
  EXPECT_EQ(jwt_add_grants_json(jwt.get(), claims.dump().c_str()), 0);
  EXPECT_EQ(jwt_set_alg(jwt.get(), alg, reinterpret_cast<const unsigned char*>(secret.data()),
                        static_cast<int>(secret.size())),
            0);
  std::unique_ptr<char, void (*)(void*)> out(jwt_encode_str(jwt.get()), std::free);
  return out ? std::string(out.get()) : std::string();
}

nlohmann::json claims_at(std::int64_t iat) {
  return {{"iss", "reelhub"},  {"sub", "42"}, {"username", "alice"}, {"role", "streamer"},
          {"sid", "s-1"}, {"iat", iat}, {"exp", iat + kTtl}};
}

nlohmann::json with(nlohmann::json claims, const std::string& key, nlohmann::json value) {
  if (value.is_null()) {
    claims.erase(key);
  } else {
    claims[key] = std::move(value);
  }
  return claims;
}

std::vector<std::string> split(const std::string& token) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (auto dot = token.find('.'); dot != std::string::npos; dot = token.find('.', start)) {
    parts.push_back(token.substr(start, dot - start));
    start = dot + 1;
  }
  parts.push_back(token.substr(start));
  return parts;
}

struct Case {
  std::string name;
  std::string token;
  Clock::time_point now;
  bool valid;
};

std::vector<Case> cases() {
  const TokenSigner signer(kSecret, kTtl, kLeeway);
  const TokenSigner other(kSecret + "x", kTtl, kLeeway);
  const auto good = signer.issue_at(kAlice, kT0);
  const auto parts = split(good);
  const auto tampered_payload =
      parts[0] + "." + b64url(with(claims_at(kT0s), "role", "admin").dump()) + "." + parts[2];
  auto flipped_sig = parts[2];
  flipped_sig[0] = flipped_sig[0] == 'A' ? 'B' : 'A';
  const auto none_token = b64url(R"({"alg":"none","typ":"JWT"})") + "." + b64url(claims_at(kT0s).dump()) + ".";
  const auto none_upper = b64url(R"({"alg":"NONE"})") + "." + b64url(claims_at(kT0s).dump()) + ".";

  return {
      {"valid", good, kT0 + seconds{10}, true},
      {"valid_at_issue_time", good, kT0, true},
      {"expired_within_leeway", good, kT0 + seconds{kTtl + kLeeway - 1}, true},
      {"expired_beyond_leeway", good, kT0 + seconds{kTtl + kLeeway}, false},
      {"expired_long_ago", good, kT0 + seconds{10 * kTtl}, false},
      {"iat_future_within_leeway", signer.issue_at(kAlice, kT0 + seconds{kLeeway - 1}), kT0, true},
      {"iat_future_beyond_leeway", signer.issue_at(kAlice, kT0 + seconds{kLeeway + 1}), kT0, false},
      {"nbf_future_beyond_leeway", sign(with(claims_at(kT0s), "nbf", kT0s + 120)), kT0, false},
      {"nbf_past", sign(with(claims_at(kT0s), "nbf", kT0s - 1)), kT0, true},
      {"tampered_payload", tampered_payload, kT0, false},
      {"forged_signature", parts[0] + "." + parts[1] + "." + flipped_sig, kT0, false},
      {"signature_removed", parts[0] + "." + parts[1] + ".", kT0, false},
      {"wrong_secret", other.issue_at(kAlice, kT0), kT0, false},
      {"alg_none", none_token, kT0, false},
      {"alg_none_upper", none_upper, kT0, false},
      {"hs512_same_secret", sign(claims_at(kT0s), JWT_ALG_HS512), kT0, false},
      {"hs384_same_secret", sign(claims_at(kT0s), JWT_ALG_HS384), kT0, false},
      {"wrong_issuer", sign(with(claims_at(kT0s), "iss", "someone-else")), kT0, false},
      {"missing_issuer", sign(with(claims_at(kT0s), "iss", nullptr)), kT0, false},
      {"missing_exp", sign(with(claims_at(kT0s), "exp", nullptr)), kT0, false},
      {"missing_iat", sign(with(claims_at(kT0s), "iat", nullptr)), kT0, false},
      {"exp_as_string", sign(with(claims_at(kT0s), "exp", std::to_string(kT0s + kTtl))), kT0, false},
      {"exp_negative", sign(with(claims_at(kT0s), "exp", -1)), kT0, false},
      {"sub_integer", sign(with(claims_at(kT0s), "sub", 42)), kT0, true},
      {"sub_not_numeric", sign(with(claims_at(kT0s), "sub", "42abc")), kT0, false},
      {"sub_zero", sign(with(claims_at(kT0s), "sub", "0")), kT0, false},
      {"sub_missing", sign(with(claims_at(kT0s), "sub", nullptr)), kT0, false},
      {"unknown_role", sign(with(claims_at(kT0s), "role", "root")), kT0, false},
      {"username_not_string", sign(with(claims_at(kT0s), "username", 7)), kT0, false},
      {"empty", "", kT0, false},
      {"one_part", "abc", kT0, false},
      {"three_garbage_parts", "a.b.c", kT0, false},
      {"dots_only", "..", kT0, false},
      {"bearer_prefix", "Bearer " + good, kT0, false},
      {"embedded_nul", good + std::string(1, '\0') + "x", kT0, false},
      {"trailing_garbage", good + "x", kT0, false},
      {"huge", std::string(100000, 'a'), kT0, false},
  };
}

TEST(TokenSigner, VerifiesOnlyWellFormedFreshHs256Tokens) {
  const TokenSigner signer(kSecret, kTtl, kLeeway);
  for (const auto& c : cases()) {
    SCOPED_TRACE(c.name);
    if (c.valid) {
      EXPECT_NO_THROW(signer.verify_at(c.token, c.now));
      continue;
    }
    try {
      signer.verify_at(c.token, c.now);
      ADD_FAILURE() << "accepted";
    } catch (const ApiError& e) {
      EXPECT_EQ(e.code(), ErrorCode::unauthorized);
      EXPECT_STREQ(e.what(), "Invalid or expired token");
    }
  }
}

TEST(TokenSigner, RoundTripsTheCaller) {
  const TokenSigner signer(kSecret, kTtl, kLeeway);
  const auto user = signer.verify_at(signer.issue_at(kAlice, kT0), kT0);
  EXPECT_EQ(user.id, kAlice.id);
  EXPECT_EQ(user.username, kAlice.username);
  EXPECT_EQ(user.role, kAlice.role);
  EXPECT_EQ(user.session_id, kAlice.session_id);
}

TEST(TokenSigner, IssuesTheDocumentedClaimsAndHeader) {
  const TokenSigner signer(kSecret, kTtl, kLeeway);
  const auto token = signer.issue_at(kAlice, kT0);
  jwt_t* raw = nullptr;
  ASSERT_EQ(jwt_decode(&raw, token.c_str(), reinterpret_cast<const unsigned char*>(kSecret.data()),
                       static_cast<int>(kSecret.size())),
            0);
  std::unique_ptr<jwt_t, void (*)(jwt_t*)> jwt(raw, jwt_free);
  EXPECT_EQ(jwt_get_alg(jwt.get()), JWT_ALG_HS256);
  EXPECT_STREQ(jwt_get_grant(jwt.get(), "iss"), "reelhub");
  EXPECT_STREQ(jwt_get_grant(jwt.get(), "sub"), "42");
  EXPECT_STREQ(jwt_get_grant(jwt.get(), "role"), "streamer");
  EXPECT_STREQ(jwt_get_grant(jwt.get(), "sid"), kAlice.session_id.c_str());
  EXPECT_EQ(jwt_get_grant_int(jwt.get(), "iat"), kT0s);
  EXPECT_EQ(jwt_get_grant_int(jwt.get(), "exp"), kT0s + kTtl);
}

TEST(TokenSigner, RefusesUnusableConfiguration) {
  EXPECT_THROW(TokenSigner("", kTtl, kLeeway), std::invalid_argument);
  EXPECT_THROW(TokenSigner(kSecret, 0, kLeeway), std::invalid_argument);
  EXPECT_THROW(TokenSigner(kSecret, kTtl, -1), std::invalid_argument);
}

TEST(Passwords, HashIsSaltedArgon2idAndVerifies) {
  const auto hash = hash_password("correct horse battery staple");
  EXPECT_EQ(hash.rfind("$argon2id$", 0), 0u) << hash;
  EXPECT_NE(hash, hash_password("correct horse battery staple"));
  EXPECT_TRUE(verify_password(hash, "correct horse battery staple"));
  EXPECT_FALSE(verify_password(hash, "correct horse battery stapl"));
  EXPECT_FALSE(verify_password(hash, ""));
  EXPECT_FALSE(verify_password("", "x"));
  EXPECT_FALSE(verify_password("not-a-hash", "x"));
  EXPECT_FALSE(verify_password(std::string(1000, '$'), "x"));
}

}  // namespace
}  // namespace reelhub::auth
