#pragma once
// SQL of the users module. Only this module reads or writes users, user_blocks and subscriptions.

#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "reelhub/auth/identity.hpp"

namespace reelhub::users {

/// A row of `users` plus the subscription counts every profile shows (active users only).
struct UserRow {
  std::int64_t id = 0;
  std::string username;
  std::string email;
  std::string password_hash;
  auth::Role role = auth::Role::viewer;
  bool is_active = true;
  std::optional<std::string> display_name;
  std::optional<std::string> bio;
  int avatar_version = 0;  // 0 = no avatar
  std::string created_at;  // ISO 8601 Z
  std::int64_t subscribers_count = 0;
  std::int64_t subscriptions_count = 0;
};

/// One page of a user list and the size of the whole list.
struct UserRows {
  std::vector<UserRow> rows;
  std::int64_t total = 0;
};

enum class RowLock { share, no_key_update };
enum class UserState { missing, inactive, active };

namespace repo {

/// Throws ApiError(conflict) naming the field when the username or e-mail is taken.
UserRow insert_user(pqxx::work& tx, const std::string& username, const std::string& email,
                    const std::string& password_hash, auth::Role role);
std::optional<UserRow> find_user(pqxx::transaction_base& tx, std::int64_t id);
/// By e-mail or username, both case-insensitive; an e-mail match wins.
std::optional<UserRow> find_user_by_login(pqxx::work& tx, const std::string& email_or_username);
UserState user_state(pqxx::work& tx, std::int64_t id);
/// Locks an active user's row until commit; false when there is no such active user.
bool lock_active_user(pqxx::work& tx, std::int64_t id, RowLock mode);

/// Changes the given fields; an empty display_name or bio clears it. Throws ApiError(conflict)
/// when the username is taken. Nullopt when the user does not exist.
std::optional<UserRow> update_profile(pqxx::work& tx, std::int64_t id, const std::optional<std::string>& username,
                                      const std::optional<std::string>& display_name,
                                      const std::optional<std::string>& bio);
/// Increments the avatar version and returns it; nullopt when the user does not exist.
std::optional<int> bump_avatar_version(pqxx::work& tx, std::int64_t id);

/// Active users whose username or display name contains `text` (LIKE wildcards in it match
/// literally), excluding users blocked by `viewer_id` and users who blocked `viewer_id`.
UserRows search_users(pqxx::work& tx, std::int64_t viewer_id, const std::string& text, std::int64_t limit,
                      std::int64_t offset);
UserRows list_users(pqxx::work& tx, std::int64_t limit, std::int64_t offset);
/// The users among `ids` that exist, active or not, by id.
std::vector<UserRow> find_users(pqxx::work& tx, const std::vector<std::int64_t>& ids);

/// Both idempotent.
void insert_block(pqxx::work& tx, std::int64_t blocker_id, std::int64_t blocked_id);
void delete_block(pqxx::work& tx, std::int64_t blocker_id, std::int64_t blocked_id);
bool is_blocked(pqxx::work& tx, std::int64_t blocker_id, std::int64_t blocked_id);
/// True when any of `blocker_ids` has blocked `blocked_id`.
bool blocked_by_any(pqxx::work& tx, std::int64_t blocked_id, const std::vector<std::int64_t>& blocker_ids);
/// The users among `among` whom `user_id` blocked or who blocked `user_id`, ordered by id.
std::vector<std::int64_t> block_partners(pqxx::work& tx, std::int64_t user_id, const std::vector<std::int64_t>& among);
/// Active users blocked by `blocker_id`, most recently blocked first.
std::vector<UserRow> blocked_users(pqxx::work& tx, std::int64_t blocker_id);

/// Idempotent; true when the subscription is new.
bool insert_subscription(pqxx::work& tx, std::int64_t subscriber_id, std::int64_t channel_id);
/// Idempotent.
void delete_subscription(pqxx::work& tx, std::int64_t subscriber_id, std::int64_t channel_id);
/// True when `subscriber_id` subscribes to `channel_id`.
bool is_subscribed(pqxx::work& tx, std::int64_t subscriber_id, std::int64_t channel_id);
/// Active subscribers of a channel.
std::int64_t count_subscribers(pqxx::work& tx, std::int64_t channel_id);
/// Active subscribers of a channel, newest subscription first.
UserRows subscribers(pqxx::work& tx, std::int64_t channel_id, std::int64_t limit, std::int64_t offset);

}  // namespace repo
}  // namespace reelhub::users
