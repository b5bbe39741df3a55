#pragma once
// Registration, login and the session lifecycle (refresh rotation with reuse detection, logout).

#include <functional>
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

/// How sessions behave, from the configuration and the composition root.
struct SessionPolicy {
  int refresh_ttl_seconds = 30 * 24 * 3600;
  /// A refresh token presented again this soon after its rotation is a client retry and gets an
  /// equivalent pair; later it is reuse and revokes the session. 0: every repeat is reuse.
  int reuse_grace_seconds = 10;
  /// Told after a session was revoked here, so access tokens of it stop working at once on every
  /// instance (the composition root relays it through the WebSocket hub).
  std::function<void(const std::string& session_id)> on_session_ended;
};

/// The auth rules. Accounts come only through users::Accounts; sessions through SessionRepo.
class AuthService {
 public:
  AuthService(db::Pool& db, const TokenSigner& tokens, SessionPolicy policy);

  /// Creates a viewer or streamer account; admin cannot be self-registered (403), duplicates are 409.
  users::Account register_user(const Registration& registration);
  /// `login` is an e-mail or a username. Unknown account and wrong password fail alike (401).
  IssuedTokens login(const std::string& login, const std::string& password);
  /// Rotates the refresh token. Replaying a rotated-out token after the grace window revokes its
  /// whole session (401); within it, the replay gets another valid pair of the same session.
  IssuedTokens refresh(const std::string& refresh_token);
  /// Ends the caller's session and, when given, the session of `refresh_token` (if also theirs).
  void logout(const auth::AuthUser& caller, const std::optional<std::string>& refresh_token);
  /// The account behind a verified access token, while its session is live and the account active.
  users::Account validate(const auth::AuthUser& caller);
  /// The janitor's sweep: forgets sessions ended more than `retention` ago (see SessionRepo).
  std::size_t purge_ended_sessions(std::chrono::seconds retention) { return sessions_.purge_ended(retention); }
  /// True while the caller's session is live and its account active: the lookup behind
  /// auth::SessionCache, asked for every authenticated request at most once per cache TTL.
  bool session_live(const auth::AuthUser& caller);

 private:
  IssuedTokens issue(const users::Account& account, const std::string& session_id, std::string refresh_token) const;
  void end_session(const std::string& session_id, std::int64_t user_id);

  users::Accounts accounts_;
  SessionRepo sessions_;
  const TokenSigner& tokens_;
  SessionPolicy policy_;
};

}  // namespace reelhub::auth
