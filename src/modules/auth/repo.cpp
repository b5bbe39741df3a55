#include "modules/auth/repo.hpp"

#include <string_view>

#include "reelhub/core/validation.hpp"
#include "reelhub/db/statements.hpp"

namespace reelhub::auth {
namespace {

const db::Statement kInsertSession{"auth.insert_session", R"sql(
INSERT INTO auth_sessions (user_id) VALUES ($1) RETURNING id::text
)sql"};

const db::Statement kInsertToken{"auth.insert_token", R"sql(
INSERT INTO refresh_tokens (token_hash, session_id, expires_at)
VALUES ($1, $2::uuid, now() + $3::int * interval '1 second')
)sql"};

// One statement claims the presented token and stores its successor: two concurrent refreshes
// with the same token cannot both succeed, because only one UPDATE finds used_at still NULL.
const db::Statement kRotateToken{"auth.rotate_token", R"sql(
WITH claimed AS (
  UPDATE refresh_tokens t SET used_at = now()
  FROM auth_sessions s
  WHERE t.token_hash = $1 AND t.used_at IS NULL AND t.expires_at > now()
    AND s.id = t.session_id AND s.revoked_at IS NULL
  RETURNING t.id, t.session_id, s.user_id
), successor AS (
  INSERT INTO refresh_tokens (token_hash, session_id, replaces, expires_at)
  SELECT $2, session_id, id, now() + $3::int * interval '1 second' FROM claimed
)
SELECT session_id::text, user_id FROM claimed
)sql"};

// A client that retries a refresh (its first answer was lost, or two tabs refreshed at once)
// presents the token the first request just rotated out. Within the grace window, and while no
// successor of it has been used yet (a used successor means the pair reached someone), it gets
// another successor instead of revoking the session.
const db::Statement kRetryRotation{"auth.retry_rotation", R"sql(
WITH retried AS (
  SELECT t.id, t.session_id, s.user_id
  FROM refresh_tokens t JOIN auth_sessions s ON s.id = t.session_id
  WHERE t.token_hash = $1 AND t.used_at > now() - $4::int * interval '1 second'
    AND s.revoked_at IS NULL
    AND NOT EXISTS (SELECT 1 FROM refresh_tokens n WHERE n.replaces = t.id AND n.used_at IS NOT NULL)
), successor AS (
  INSERT INTO refresh_tokens (token_hash, session_id, replaces, expires_at)
  SELECT $2, session_id, id, now() + $3::int * interval '1 second' FROM retried
)
SELECT session_id::text, user_id FROM retried
)sql"};

// Why a token did not rotate. A revoked session wins over "used", so replaying a token of a
// session that was already shut down is not reported as fresh reuse.
const db::Statement kInspectToken{"auth.inspect_token", R"sql(
SELECT t.session_id::text, s.user_id, s.revoked_at IS NOT NULL, t.used_at IS NOT NULL
FROM refresh_tokens t JOIN auth_sessions s ON s.id = t.session_id
WHERE t.token_hash = $1
)sql"};

const db::Statement kRevokeSession{"auth.revoke_session", R"sql(
UPDATE auth_sessions SET revoked_at = now()
WHERE id = $1::uuid AND user_id = $2 AND revoked_at IS NULL
)sql"};

const db::Statement kRevokeSessionOfToken{"auth.revoke_session_of_token", R"sql(
UPDATE auth_sessions s SET revoked_at = now()
FROM refresh_tokens t
WHERE t.token_hash = $1 AND s.id = t.session_id AND s.user_id = $2 AND s.revoked_at IS NULL
RETURNING s.id::text
)sql"};

const db::Statement kSessionLive{"auth.session_live", R"sql(
SELECT 1 FROM auth_sessions WHERE id = $1::uuid AND user_id = $2 AND revoked_at IS NULL
)sql"};

// A session ended when it was revoked or when its newest refresh token expired; its tokens go
// with it (ON DELETE CASCADE).
const db::Statement kPurgeSessions{"auth.purge_sessions", R"sql(
DELETE FROM auth_sessions s
WHERE s.revoked_at < now() - make_interval(secs => $1)
   OR NOT EXISTS (SELECT 1 FROM refresh_tokens t
                  WHERE t.session_id = s.id AND t.expires_at >= now() - make_interval(secs => $1))
)sql"};

// Rotated-out tokens of live sessions, once expired: presenting one is refused as expired anyway.
const db::Statement kPurgeUsedTokens{"auth.purge_used_tokens", R"sql(
DELETE FROM refresh_tokens WHERE used_at IS NOT NULL AND expires_at < now() - make_interval(secs => $1)
)sql"};
}  // namespace

std::string SessionRepo::create(std::int64_t user_id, const std::string& token_hash, int ttl_seconds) {
  return db_.transact([&](pqxx::work& tx) {
    auto session_id = tx.exec_prepared1(kInsertSession.name(), user_id)[0].as<std::string>();
    tx.exec_prepared0(kInsertToken.name(), token_hash, session_id, ttl_seconds);
    return session_id;
  });
}

Rotation SessionRepo::rotate(const std::string& token_hash, const std::string& next_hash, int ttl_seconds,
                             int grace_seconds) {
  return db_.transact([&](pqxx::work& tx) {
    // A concurrent refresh of the same token waits here for the first one's row lock, then finds
    // used_at set: it goes on to the retry check below and sees the first one's committed rows.
    const auto claimed = tx.exec_prepared(kRotateToken.name(), token_hash, next_hash, ttl_seconds);
    if (!claimed.empty()) {
      return Rotation{RotationOutcome::rotated, claimed[0][0].as<std::string>(), claimed[0][1].as<std::int64_t>()};
    }
    if (grace_seconds > 0) {
      const auto retried = tx.exec_prepared(kRetryRotation.name(), token_hash, next_hash, ttl_seconds, grace_seconds);
      if (!retried.empty()) {
        return Rotation{RotationOutcome::retried, retried[0][0].as<std::string>(), retried[0][1].as<std::int64_t>()};
      }
    }
    const auto found = tx.exec_prepared(kInspectToken.name(), token_hash);
    if (found.empty()) return Rotation{};
    const auto& row = found[0];
    // now() is fixed for the transaction and used/revoked only ever turn true, so a token that
    // failed the claim but is neither revoked nor used must be expired.
    const auto outcome = row[2].as<bool>()   ? RotationOutcome::revoked
                         : row[3].as<bool>() ? RotationOutcome::reused
                                             : RotationOutcome::expired;
    return Rotation{outcome, row[0].as<std::string>(), row[1].as<std::int64_t>()};
  });
}

// Session ids come from access tokens; anything that is not a canonical UUID cannot name a
// session, and casting it in SQL would be a 500 instead of a plain "no".
bool SessionRepo::revoke(const std::string& session_id, std::int64_t user_id) {
  if (!is_valid_uuid(session_id)) return false;
  return db_.transact([&](pqxx::work& tx) {
    return tx.exec_prepared(kRevokeSession.name(), session_id, user_id).affected_rows() > 0;
  });
}

std::optional<std::string> SessionRepo::revoke_by_token(const std::string& token_hash, std::int64_t user_id) {
  return db_.transact([&](pqxx::work& tx) -> std::optional<std::string> {
    const auto revoked = tx.exec_prepared(kRevokeSessionOfToken.name(), token_hash, user_id);
    if (revoked.empty()) return std::nullopt;
    return revoked[0][0].as<std::string>();
  });
}

std::size_t SessionRepo::purge_ended(std::chrono::seconds retention) {
  return db_.transact([&](pqxx::work& tx) {
    const auto seconds = static_cast<double>(retention.count());
    return static_cast<std::size_t>(tx.exec_prepared0(kPurgeSessions.name(), seconds).affected_rows() +
                                    tx.exec_prepared0(kPurgeUsedTokens.name(), seconds).affected_rows());
  });
}

bool SessionRepo::is_live(const std::string& session_id, std::int64_t user_id) {
  if (!is_valid_uuid(session_id)) return false;
  return db_.transact(
      [&](pqxx::work& tx) { return !tx.exec_prepared(kSessionLive.name(), session_id, user_id).empty(); });
}

}  // namespace reelhub::auth
