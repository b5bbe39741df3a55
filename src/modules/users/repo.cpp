#include "repo.hpp"

#include <string_view>

#include "modules/kit/text.hpp"
#include "reelhub/core/error.hpp"
#include "reelhub/core/time.hpp"
#include "reelhub/db/pool.hpp"
#include "reelhub/db/statements.hpp"

namespace reelhub::users::repo {
namespace {

// Subscription counts take active users only, like the subscriber lists do.
const std::string kUserColumns = R"(u.id, u.username, u.email, u.password_hash, u.role, u.is_active,
  u.display_name, u.bio, u.avatar_version, u.created_at,
  (SELECT count(*) FROM subscriptions s JOIN users su ON su.id = s.subscriber_id AND su.is_active
    WHERE s.channel_id = u.id) AS subscribers_count,
  (SELECT count(*) FROM subscriptions s JOIN users sc ON sc.id = s.channel_id AND sc.is_active
    WHERE s.subscriber_id = u.id) AS subscriptions_count)";

const db::Statement kInsertUser{"users.insert_user", R"(WITH u AS (
    INSERT INTO users (username, email, password_hash, role) VALUES ($1, $2, $3, $4) RETURNING *)
  SELECT )" + kUserColumns + " FROM u"};

const db::Statement kFindUser{"users.find_user", "SELECT " + kUserColumns + " FROM users u WHERE u.id = $1"};

const db::Statement kFindUserByLogin{"users.find_user_by_login", "SELECT " + kUserColumns + R"( FROM users u
  WHERE lower(u.email) = lower($1) OR lower(u.username) = lower($1)
  ORDER BY lower(u.email) = lower($1) DESC LIMIT 1)"};

const db::Statement kUserState{"users.user_state", "SELECT is_active FROM users WHERE id = $1"};
const db::Statement kLockActiveUserShare{"users.lock_active_user_share",
                                         "SELECT 1 FROM users WHERE id = $1 AND is_active FOR SHARE"};
const db::Statement kLockActiveUserUpdate{"users.lock_active_user_update",
                                          "SELECT 1 FROM users WHERE id = $1 AND is_active FOR NO KEY UPDATE"};

// $3/$4 NULL keeps the field, '' clears it.
const db::Statement kUpdateProfile{"users.update_profile", R"(WITH u AS (
    UPDATE users SET
      username = COALESCE($2, username),
      display_name = CASE WHEN $3::text IS NULL THEN display_name ELSE NULLIF($3::text, '') END,
      bio = CASE WHEN $4::text IS NULL THEN bio ELSE NULLIF($4::text, '') END,
      updated_at = now()
    WHERE id = $1 RETURNING *)
  SELECT )" + kUserColumns + " FROM u"};

const db::Statement kBumpAvatarVersion{"users.bump_avatar_version", R"(UPDATE users
  SET avatar_version = avatar_version + 1, avatar_updated_at = now(), updated_at = now()
  WHERE id = $1 RETURNING avatar_version)"};

// $1 viewer, $2 pattern (escaped, wrapped in %). Plain ILIKE so the trigram indexes apply;
// backslash is PostgreSQL's default LIKE escape.
const std::string kSearchWhere = R"( FROM users u
  WHERE u.is_active AND (u.username ILIKE $2 OR u.display_name ILIKE $2)
    AND NOT EXISTS (SELECT 1 FROM user_blocks b
                    WHERE (b.blocker_id = $1 AND b.blocked_id = u.id) OR (b.blocker_id = u.id AND b.blocked_id = $1)))";
// $3 exact text, $4 escaped prefix pattern: exact username, then prefix matches, then the rest.
const db::Statement kSearchUsers{"users.search_users", "SELECT " + kUserColumns + kSearchWhere + R"(
  ORDER BY lower(u.username) = lower($3) DESC, u.username ILIKE $4 DESC, lower(u.username), u.id
  LIMIT $5 OFFSET $6)"};
const db::Statement kCountSearchUsers{"users.count_search_users", "SELECT count(*)" + kSearchWhere};

const db::Statement kListUsers{"users.list_users",
                               "SELECT " + kUserColumns + " FROM users u ORDER BY u.id LIMIT $1 OFFSET $2"};
const db::Statement kCountUsers{"users.count_users", "SELECT count(*) FROM users"};
const db::Statement kFindUsers{
    "users.find_users", "SELECT " + kUserColumns + " FROM users u WHERE u.id = ANY($1::bigint[]) ORDER BY u.id"};

const db::Statement kInsertBlock{
    "users.insert_block", "INSERT INTO user_blocks (blocker_id, blocked_id) VALUES ($1, $2) ON CONFLICT DO NOTHING"};
const db::Statement kDeleteBlock{"users.delete_block",
                                 "DELETE FROM user_blocks WHERE blocker_id = $1 AND blocked_id = $2"};
const db::Statement kIsBlocked{
    "users.is_blocked", "SELECT EXISTS (SELECT 1 FROM user_blocks WHERE blocker_id = $1 AND blocked_id = $2)"};
const db::Statement kBlockedByAny{
    "users.blocked_by_any",
    "SELECT EXISTS (SELECT 1 FROM user_blocks WHERE blocked_id = $1 AND blocker_id = ANY($2::bigint[]))"};
// Either direction: the pairs a block separates in group chats.
const db::Statement kBlockPartners{"users.block_partners", R"(
SELECT blocked_id FROM user_blocks WHERE blocker_id = $1 AND blocked_id = ANY($2::bigint[])
UNION
SELECT blocker_id FROM user_blocks WHERE blocked_id = $1 AND blocker_id = ANY($2::bigint[])
ORDER BY 1)"};
const db::Statement kBlockedUsers{"users.blocked_users", "SELECT " + kUserColumns + R"( FROM user_blocks b
  JOIN users u ON u.id = b.blocked_id AND u.is_active
  WHERE b.blocker_id = $1 ORDER BY b.created_at DESC, u.id)"};

const db::Statement kInsertSubscription{
    "users.insert_subscription",
    "INSERT INTO subscriptions (subscriber_id, channel_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1"};
const db::Statement kDeleteSubscription{"users.delete_subscription",
                                        "DELETE FROM subscriptions WHERE subscriber_id = $1 AND channel_id = $2"};
const db::Statement kIsSubscribed{
    "users.is_subscribed",
    "SELECT EXISTS (SELECT 1 FROM subscriptions WHERE subscriber_id = $1 AND channel_id = $2)"};
const db::Statement kCountSubscribers{"users.count_subscribers", R"(SELECT count(*) FROM subscriptions c
  JOIN users u ON u.id = c.subscriber_id AND u.is_active WHERE c.channel_id = $1)"};
const db::Statement kSubscribers{"users.subscribers", "SELECT " + kUserColumns + R"( FROM subscriptions c
  JOIN users u ON u.id = c.subscriber_id AND u.is_active
  WHERE c.channel_id = $1 ORDER BY c.created_at DESC, u.id LIMIT $2 OFFSET $3)"};

UserRow user_row(const pqxx::row& r) {
  UserRow u;
  u.id = r["id"].as<std::int64_t>();
  u.username = r["username"].as<std::string>();
  u.email = r["email"].as<std::string>();
  u.password_hash = r["password_hash"].as<std::string>();
  u.role = auth::parse_role(r["role"].as<std::string>()).value();  // the CHECK constraint admits no other
  u.is_active = r["is_active"].as<bool>();
  u.display_name = r["display_name"].get<std::string>();
  u.bio = r["bio"].get<std::string>();
  u.avatar_version = r["avatar_version"].as<int>();
  u.created_at = iso8601_from_pg(r["created_at"].as<std::string>());
  u.subscribers_count = r["subscribers_count"].as<std::int64_t>();
  u.subscriptions_count = r["subscriptions_count"].as<std::int64_t>();
  return u;
}

std::optional<UserRow> first_user(const pqxx::result& result) {
  if (result.empty()) return std::nullopt;
  return user_row(result[0]);
}

std::vector<UserRow> user_rows(const pqxx::result& result) {
  std::vector<UserRow> rows;
  rows.reserve(result.size());
  for (const auto& r : result) rows.push_back(user_row(r));
  return rows;
}

/// Runs a statement that writes username or email, turning a unique violation into a 409 that
/// names the field (the message carries the index name of migrations/0001_users.sql).
template <class Fn>
auto mapping_conflicts(Fn&& fn) {
  try {
    return fn();
  } catch (const pqxx::sql_error& e) {
    if (!db::is_unique_violation(e)) throw;
    if (std::string_view(e.what()).find("users_email_lower_key") != std::string_view::npos) {
      throw ApiError(ErrorCode::conflict, "Email is already registered", {{"email", {"is already taken"}}});
    }
    throw ApiError(ErrorCode::conflict, "Username is already taken", {{"username", {"is already taken"}}});
  }
}

/// An array literal for a `$n::bigint[]` parameter (libpqxx 6 has no array parameters).
std::string bigint_array(const std::vector<std::int64_t>& ids) {
  std::string out = "{";
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(ids[i]);
  }
  out += '}';
  return out;
}

}  // namespace

UserRow insert_user(pqxx::work& tx, const std::string& username, const std::string& email,
                    const std::string& password_hash, auth::Role role) {
  return mapping_conflicts([&] {
    return user_row(
        tx.exec_prepared1(kInsertUser.name(), username, email, password_hash, std::string(auth::role_name(role))));
  });
}

std::optional<UserRow> find_user(pqxx::transaction_base& tx, std::int64_t id) {
  return first_user(tx.exec_prepared(kFindUser.name(), id));
}

std::optional<UserRow> find_user_by_login(pqxx::work& tx, const std::string& email_or_username) {
  return first_user(tx.exec_prepared(kFindUserByLogin.name(), email_or_username));
}

UserState user_state(pqxx::work& tx, std::int64_t id) {
  const auto result = tx.exec_prepared(kUserState.name(), id);
  if (result.empty()) return UserState::missing;
  return result[0][0].as<bool>() ? UserState::active : UserState::inactive;
}

bool lock_active_user(pqxx::work& tx, std::int64_t id, RowLock mode) {
  const auto& lock = mode == RowLock::share ? kLockActiveUserShare : kLockActiveUserUpdate;
  return !tx.exec_prepared(lock.name(), id).empty();
}

std::optional<UserRow> update_profile(pqxx::work& tx, std::int64_t id, const std::optional<std::string>& username,
                                      const std::optional<std::string>& display_name,
                                      const std::optional<std::string>& bio) {
  return mapping_conflicts(
      [&] { return first_user(tx.exec_prepared(kUpdateProfile.name(), id, username, display_name, bio)); });
}

std::optional<int> bump_avatar_version(pqxx::work& tx, std::int64_t id) {
  const auto result = tx.exec_prepared(kBumpAvatarVersion.name(), id);
  if (result.empty()) return std::nullopt;
  return result[0][0].as<int>();
}

UserRows search_users(pqxx::work& tx, std::int64_t viewer_id, const std::string& text, std::int64_t limit,
                      std::int64_t offset) {
  const std::string escaped = modules::escape_like(text);
  const std::string contains = "%" + escaped + "%";
  UserRows page;
  page.rows = user_rows(tx.exec_prepared(kSearchUsers.name(), viewer_id, contains, text, escaped + "%", limit, offset));
  page.total = tx.exec_prepared1(kCountSearchUsers.name(), viewer_id, contains)[0].as<std::int64_t>();
  return page;
}

UserRows list_users(pqxx::work& tx, std::int64_t limit, std::int64_t offset) {
  UserRows page;
  page.rows = user_rows(tx.exec_prepared(kListUsers.name(), limit, offset));
  page.total = tx.exec_prepared1(kCountUsers.name())[0].as<std::int64_t>();
  return page;
}

std::vector<UserRow> find_users(pqxx::work& tx, const std::vector<std::int64_t>& ids) {
  return user_rows(tx.exec_prepared(kFindUsers.name(), bigint_array(ids)));
}

void insert_block(pqxx::work& tx, std::int64_t blocker_id, std::int64_t blocked_id) {
  tx.exec_prepared0(kInsertBlock.name(), blocker_id, blocked_id);
}

void delete_block(pqxx::work& tx, std::int64_t blocker_id, std::int64_t blocked_id) {
  tx.exec_prepared0(kDeleteBlock.name(), blocker_id, blocked_id);
}

bool is_blocked(pqxx::work& tx, std::int64_t blocker_id, std::int64_t blocked_id) {
  return tx.exec_prepared1(kIsBlocked.name(), blocker_id, blocked_id)[0].as<bool>();
}

bool blocked_by_any(pqxx::work& tx, std::int64_t blocked_id, const std::vector<std::int64_t>& blocker_ids) {
  return tx.exec_prepared1(kBlockedByAny.name(), blocked_id, bigint_array(blocker_ids))[0].as<bool>();
}

std::vector<std::int64_t> block_partners(pqxx::work& tx, std::int64_t user_id, const std::vector<std::int64_t>& among) {
  std::vector<std::int64_t> out;
  for (const auto& r : tx.exec_prepared(kBlockPartners.name(), user_id, bigint_array(among))) {
    out.push_back(r[0].as<std::int64_t>());
  }
  return out;
}

std::vector<UserRow> blocked_users(pqxx::work& tx, std::int64_t blocker_id) {
  return user_rows(tx.exec_prepared(kBlockedUsers.name(), blocker_id));
}

bool insert_subscription(pqxx::work& tx, std::int64_t subscriber_id, std::int64_t channel_id) {
  return !tx.exec_prepared(kInsertSubscription.name(), subscriber_id, channel_id).empty();
}

void delete_subscription(pqxx::work& tx, std::int64_t subscriber_id, std::int64_t channel_id) {
  tx.exec_prepared0(kDeleteSubscription.name(), subscriber_id, channel_id);
}

bool is_subscribed(pqxx::work& tx, std::int64_t subscriber_id, std::int64_t channel_id) {
  return tx.exec_prepared1(kIsSubscribed.name(), subscriber_id, channel_id)[0].as<bool>();
}

std::int64_t count_subscribers(pqxx::work& tx, std::int64_t channel_id) {
  return tx.exec_prepared1(kCountSubscribers.name(), channel_id)[0].as<std::int64_t>();
}

UserRows subscribers(pqxx::work& tx, std::int64_t channel_id, std::int64_t limit, std::int64_t offset) {
  UserRows page;
  page.rows = user_rows(tx.exec_prepared(kSubscribers.name(), channel_id, limit, offset));
  page.total = count_subscribers(tx, channel_id);
  return page;
}

}  // namespace reelhub::users::repo
