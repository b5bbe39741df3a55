#include "modules/auth/service.hpp"

#include <spdlog/spdlog.h>

#include "reelhub/core/error.hpp"
#include "reelhub/core/random.hpp"

namespace reelhub::auth {
namespace {

constexpr std::size_t kRefreshTokenBytes = 32;

[[noreturn]] void invalid_credentials() { throw ApiError(ErrorCode::unauthorized, "Invalid credentials"); }
[[noreturn]] void invalid_refresh_token() { throw ApiError(ErrorCode::unauthorized, "Invalid or expired refresh token"); }
[[noreturn]] void session_ended() { throw ApiError(ErrorCode::unauthorized, "Session has ended"); }

/// A real argon2id hash to verify against when the account does not exist, so an unknown
/// login costs the same ~70 ms as a wrong password and timing does not reveal which accounts exist.
const std::string& decoy_hash() {
  static const std::string hash = hash_password(random_token(16));
  return hash;
}

}  // namespace

AuthService::AuthService(db::Pool& db, const TokenSigner& tokens, SessionPolicy policy)
    : accounts_(db), sessions_(db), tokens_(tokens), policy_(std::move(policy)) {}

users::Account AuthService::register_user(const Registration& registration) {
  if (registration.role == auth::Role::admin) {
    throw ApiError(ErrorCode::forbidden, "Admin accounts cannot be self-registered");
  }
  return accounts_.create(users::NewAccount{registration.username, registration.email,
                                            hash_password(registration.password), registration.role});
}

IssuedTokens AuthService::login(const std::string& login, const std::string& password) {
  const auto account = accounts_.find_by_login(login);
  if (!account) {
    verify_password(decoy_hash(), password);
    invalid_credentials();
  }
  if (!verify_password(account->password_hash, password)) invalid_credentials();
  // Only someone who knows the password learns that the account is disabled.
  if (!account->is_active) throw ApiError(ErrorCode::forbidden, "Account disabled");

  auto refresh_token = random_token(kRefreshTokenBytes);
  const auto session_id = sessions_.create(account->id, sha256_hex(refresh_token), policy_.refresh_ttl_seconds);
  return issue(*account, session_id, std::move(refresh_token));
}

IssuedTokens AuthService::refresh(const std::string& refresh_token) {
  auto next_token = random_token(kRefreshTokenBytes);
  const auto rotation = sessions_.rotate(sha256_hex(refresh_token), sha256_hex(next_token),
                                         policy_.refresh_ttl_seconds, policy_.reuse_grace_seconds);
  switch (rotation.outcome) {
    case RotationOutcome::rotated:
    case RotationOutcome::retried: break;
    case RotationOutcome::reused:
      // The token was already exchanged, so two parties hold this session: end it for both.
      end_session(rotation.session_id, rotation.user_id);
      spdlog::warn("refresh token reuse: session {} of user {} revoked", rotation.session_id, rotation.user_id);
      invalid_refresh_token();
    case RotationOutcome::unknown:
    case RotationOutcome::expired:
    case RotationOutcome::revoked: invalid_refresh_token();
  }

  const auto account = accounts_.find_by_id(rotation.user_id);
  if (!account || !account->is_active) {
    end_session(rotation.session_id, rotation.user_id);
    invalid_refresh_token();
  }
  return issue(*account, rotation.session_id, std::move(next_token));
}

void AuthService::logout(const auth::AuthUser& caller, const std::optional<std::string>& refresh_token) {
  end_session(caller.session_id, caller.id);
  if (refresh_token) {
    if (const auto other = sessions_.revoke_by_token(sha256_hex(*refresh_token), caller.id)) {
      if (policy_.on_session_ended) policy_.on_session_ended(*other);
    }
  }
}

users::Account AuthService::validate(const auth::AuthUser& caller) {
  if (!sessions_.is_live(caller.session_id, caller.id)) session_ended();
  auto account = accounts_.find_by_id(caller.id);
  if (!account || !account->is_active) session_ended();
  return std::move(*account);
}

bool AuthService::session_live(const auth::AuthUser& caller) {
  return sessions_.is_live(caller.session_id, caller.id) && accounts_.is_active(caller.id);
}

void AuthService::end_session(const std::string& session_id, std::int64_t user_id) {
  // Told even when this call found it revoked already: a concurrent revocation may still be on
  // its way to the caches, and telling twice costs nothing.
  sessions_.revoke(session_id, user_id);
  if (policy_.on_session_ended && !session_id.empty()) policy_.on_session_ended(session_id);
}

IssuedTokens AuthService::issue(const users::Account& account, const std::string& session_id,
                                std::string refresh_token) const {
  const auth::AuthUser subject{account.id, account.username, account.role, session_id};
  return IssuedTokens{tokens_.issue(subject), tokens_.ttl_seconds(), std::move(refresh_token), account};
}

}  // namespace reelhub::auth
