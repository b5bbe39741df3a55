#pragma once
// SQL for login sessions and their refresh tokens (tables auth_sessions, refresh_tokens).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "reelhub/db/pool.hpp"

namespace reelhub::auth {

/// What happened to a refresh token presented for rotation.
enum class RotationOutcome {
  rotated,  // the token was current: it is now used and its successor stored
  retried,  // rotated out within the reuse grace window (a client retry): another successor stored
  unknown,  // no such token
  expired,
  reused,   // already rotated out: someone replays an old token
  revoked,  // its session was logged out or revoked for reuse
};

struct Rotation {
  RotationOutcome outcome = RotationOutcome::unknown;
  std::string session_id;  // empty when unknown
  std::int64_t user_id = 0;
};

/// Sessions (refresh-token families) and their tokens; tokens arrive here already hashed.
class SessionRepo {
 public:
  explicit SessionRepo(db::Pool& db) : db_(db) {}

  /// Starts a session for `user_id` with its first refresh token; returns the session id.
  std::string create(std::int64_t user_id, const std::string& token_hash, int ttl_seconds);
  /// Atomically marks `token_hash` used and stores `next_hash` in the same session. Only a current
  /// token of a live session rotates, or one rotated out less than `grace_seconds` ago whose
  /// successors are all still unused (`retried`); otherwise the outcome says why nothing changed.
  Rotation rotate(const std::string& token_hash, const std::string& next_hash, int ttl_seconds, int grace_seconds);
  /// Revokes the session if it belongs to `user_id`; false when there was nothing live to revoke.
  bool revoke(const std::string& session_id, std::int64_t user_id);
  /// Revokes the session that issued `token_hash`, if it belongs to `user_id`: its id, if it was live.
  std::optional<std::string> revoke_by_token(const std::string& token_hash, std::int64_t user_id);
  /// True while the session exists, belongs to `user_id` and is not revoked.
  bool is_live(const std::string& session_id, std::int64_t user_id);
  /// Deletes sessions that ended (revoked, or every token expired) more than `retention` ago,
  /// and rotated-out tokens expired that long; returns how many rows went.
  std::size_t purge_ended(std::chrono::seconds retention);

 private:
  db::Pool& db_;
};

}  // namespace reelhub::auth
