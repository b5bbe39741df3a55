#include "reelhub/auth/tokens.hpp"

#include <jwt.h>
#include <sodium.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>

#include "reelhub/core/error.hpp"

namespace reelhub::auth {
namespace {

constexpr const char* kIssuer = "reelhub";
// Bounds the work spent on hostile input; our tokens are a few hundred bytes.
constexpr std::size_t kMaxTokenBytes = 8192;
// Timestamps beyond ~34 000 years are nonsense; the bound keeps `exp + leeway` from overflowing.
constexpr std::int64_t kMaxTimestamp = std::int64_t{1} << 40;

struct JwtFree {
  void operator()(jwt_t* jwt) const { jwt_free(jwt); }
};
using JwtPtr = std::unique_ptr<jwt_t, JwtFree>;

// libjwt hands out malloc'd strings.
struct CFree {
  void operator()(char* p) const { std::free(p); }
};
using CString = std::unique_ptr<char, CFree>;

[[noreturn]] void reject() { throw ApiError(ErrorCode::unauthorized, "Invalid or expired token"); }

void ensure_sodium() {
  static const bool ready = sodium_init() >= 0;
  if (!ready) throw std::runtime_error("libsodium failed to initialise");
}

std::int64_t unix_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

/// A NumericDate claim: nullopt when absent; rejects the token when present but malformed.
std::optional<std::int64_t> time_claim(const nlohmann::json& claims, const char* name) {
  const auto it = claims.find(name);
  if (it == claims.end()) return std::nullopt;
  if (!it->is_number_integer()) reject();
  if (it->is_number_unsigned()) {
    const auto v = it->get<std::uint64_t>();
    if (v > static_cast<std::uint64_t>(kMaxTimestamp)) reject();
    return static_cast<std::int64_t>(v);
  }
  const auto v = it->get<std::int64_t>();
  if (v < 0 || v > kMaxTimestamp) reject();
  return v;
}

/// `sub` is the decimal user id; RFC 7519 makes it a string, but an integer is accepted too.
std::int64_t subject_claim(const nlohmann::json& claims) {
  const auto it = claims.find("sub");
  if (it == claims.end()) reject();
  if (it->is_number_integer()) {
    const auto id = it->get<std::int64_t>();
    if (id <= 0) reject();
    return id;
  }
  if (!it->is_string()) reject();
  const auto& s = it->get_ref<const std::string&>();
  if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos) reject();
  const auto id = std::stoll(s);
  if (id <= 0) reject();
  return id;
}

const std::string& string_claim(const nlohmann::json& claims, const char* name) {
  const auto it = claims.find(name);
  if (it == claims.end() || !it->is_string()) reject();
  return it->get_ref<const std::string&>();
}

}  // namespace

TokenSigner::TokenSigner(std::string secret, int ttl_seconds, int leeway_seconds)
    : secret_(std::move(secret)), ttl_seconds_(ttl_seconds), leeway_seconds_(leeway_seconds) {
  if (secret_.empty()) throw std::invalid_argument("JWT secret must not be empty");
  if (ttl_seconds_ <= 0) throw std::invalid_argument("access token TTL must be positive");
  if (leeway_seconds_ < 0) throw std::invalid_argument("JWT leeway must not be negative");
}

std::string TokenSigner::issue(const AuthUser& user) const {
  return issue_at(user, std::chrono::system_clock::now());
}

std::string TokenSigner::issue_at(const AuthUser& user, std::chrono::system_clock::time_point now) const {
  const std::int64_t iat = unix_seconds(now);
  nlohmann::json claims = {
      {"iss", kIssuer},
      {"sub", std::to_string(user.id)},
      {"username", user.username},
      {"role", role_name(user.role)},
      {"iat", iat},
      {"exp", iat + ttl_seconds_},
  };
  if (!user.session_id.empty()) claims["sid"] = user.session_id;

  jwt_t* raw = nullptr;
  if (jwt_new(&raw) != 0) throw std::bad_alloc();
  const JwtPtr jwt(raw);
  if (jwt_add_grants_json(jwt.get(), claims.dump().c_str()) != 0 ||
      jwt_set_alg(jwt.get(), JWT_ALG_HS256, reinterpret_cast<const unsigned char*>(secret_.data()),
                  static_cast<int>(secret_.size())) != 0) {
    throw std::runtime_error("libjwt refused to build an access token");
  }
  const CString encoded(jwt_encode_str(jwt.get()));
  if (!encoded) throw std::runtime_error("libjwt failed to encode an access token");
  return encoded.get();
}

AuthUser TokenSigner::verify(const std::string& token) const {
  return verify_at(token, std::chrono::system_clock::now());
}

AuthUser TokenSigner::verify_at(const std::string& token, std::chrono::system_clock::time_point now) const {
  // c_str() would silently cut a token at an embedded NUL; refuse such input outright.
  if (token.empty() || token.size() > kMaxTokenBytes || token.find('\0') != std::string::npos) reject();

  // libjwt checks the signature with whatever algorithm the header names (it refuses "none"
  // when a key is given), so a token signed with HS384/HS512 and our secret would pass:
  // the algorithm is pinned here before any claim is read.
  jwt_t* raw = nullptr;
  if (jwt_decode(&raw, token.c_str(), reinterpret_cast<const unsigned char*>(secret_.data()),
                 static_cast<int>(secret_.size())) != 0) {
    reject();
  }
  const JwtPtr jwt(raw);
  if (jwt_get_alg(jwt.get()) != JWT_ALG_HS256) reject();

  const CString grants(jwt_get_grants_json(jwt.get(), nullptr));
  if (!grants) reject();
  const auto claims = nlohmann::json::parse(grants.get(), nullptr, /*allow_exceptions=*/false);
  if (!claims.is_object()) reject();

  // libjwt validates no claims at all: issuer and the time window are checked here.
  if (string_claim(claims, "iss") != kIssuer) reject();
  const std::int64_t now_s = unix_seconds(now);
  const auto exp = time_claim(claims, "exp");
  const auto iat = time_claim(claims, "iat");
  const auto nbf = time_claim(claims, "nbf");
  if (!exp || !iat) reject();
  if (now_s >= *exp + leeway_seconds_) reject();
  if (*iat > now_s + leeway_seconds_) reject();
  if (nbf && *nbf > now_s + leeway_seconds_) reject();

  AuthUser user;
  user.id = subject_claim(claims);
  user.username = string_claim(claims, "username");
  const auto role = parse_role(string_claim(claims, "role"));
  if (!role) reject();
  user.role = *role;
  if (claims.contains("sid")) user.session_id = string_claim(claims, "sid");
  user.valid_until = std::chrono::system_clock::time_point(std::chrono::seconds(*exp + leeway_seconds_));
  return user;
}

std::string hash_password(const std::string& password) {
  ensure_sodium();
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_argon2id_str(out, password.data(), password.size(), crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE,
                                 crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE) != 0) {
    throw std::runtime_error("argon2id hashing failed (out of memory)");
  }
  return out;
}

bool verify_password(const std::string& hash, const std::string& password) {
  ensure_sodium();
  // libsodium reads the hash as a C string of bounded size.
  if (hash.empty() || hash.size() >= crypto_pwhash_STRBYTES || hash.find('\0') != std::string::npos) return false;
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

}  // namespace reelhub::auth
