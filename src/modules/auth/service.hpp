#pragma once
// Registration, login and the session lifecycle (refresh rotation with reuse detection, logout).

#include <optional>
#include <string>

#include "modules/auth/repo.hpp"
#include "modules/users/accounts.hpp"
#include "reelhub/auth/tokens.hpp"
#include "reelhub/db/pool.hpp"
#include "reelhub/auth/identity.hpp"

namespace reelhub::auth {

struct Registration {
  std::string username;
  std::string email;
  std::string password;
  auth::Role role = auth::Role::viewer;
};

/// What login and refresh hand back: a fresh access token, the session's current refresh token
/// and the account they belong to.
struct IssuedTokens {
  std::string access_token;
  int expires_in = 0;  // seconds
  std::string refresh_token;
  users::Account account;
};

/// The auth rules. Accounts come only through users::Accounts; sessions through SessionRepo.
class AuthService {
 public:
  AuthService(db::Pool& db, const TokenSigner& tokens, int refresh_ttl_seconds);

  /// Creates a viewer or streamer account; admin cannot be self-registered (403), duplicates are 409.
  users::Account register_user(const Registration& registration);
  /// `login` is an e-mail or a username. Unknown account and wrong password fail alike (401).
  IssuedTokens login(const std::string& login, const std::string& password);
  /// Rotates the refresh token. Replaying a rotated-out token revokes its whole session (401).
  IssuedTokens refresh(const std::string& refresh_token);
  /// Ends the caller's session and, when given, the session of `refresh_token` (if also theirs).
  void logout(const auth::AuthUser& caller, const std::optional<std::string>& refresh_token);
  /// The account behind a verified access token, while its session is live and the account active.
  users::Account validate(const auth::AuthUser& caller);
  /// The janitor's sweep: forgets sessions ended more than `retention` ago (see SessionRepo).
  std::size_t purge_ended_sessions(std::chrono::seconds retention) { return sessions_.purge_ended(retention); }

 private:
  IssuedTokens issue(const users::Account& account, const std::string& session_id, std::string refresh_token) const;

  users::Accounts accounts_;
  SessionRepo sessions_;
  const TokenSigner& tokens_;
  int refresh_ttl_seconds_;
};

}  // namespace reelhub::auth
