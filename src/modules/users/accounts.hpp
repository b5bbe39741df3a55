#pragma once
// The narrow interface the users module offers other modules (auth, chats, videos, rooms) for
// accounts, blocks and subscriptions: they never touch the users or user_blocks tables themselves.

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reelhub/db/pool.hpp"
#include "reelhub/auth/identity.hpp"

namespace reelhub::users {

struct Account {
  std::int64_t id = 0;
  std::string username;
  std::string email;
  auth::Role role = auth::Role::viewer;
  bool is_active = true;
  std::string password_hash;
  std::string created_at;  // ISO 8601 Z
};

struct NewAccount {
  std::string username;
  std::string email;
  std::string password_hash;
  auth::Role role = auth::Role::viewer;
};

/// How other modules show a user (chat members): public fields only.
struct UserCard {
  std::int64_t id = 0;
  std::string username;
  bool is_active = true;
};

/// 3-32 characters of [A-Za-z0-9_.-]: the one username rule (register and profile edits).
bool is_valid_username(std::string_view username);

/// Account lookups and creation for the auth module; names and block state for the others.
class Accounts {
 public:
  explicit Accounts(db::Pool& db) : db_(db) {}
  /// Inserts the account. Throws ApiError(conflict) naming the taken field (email or username).
  Account create(const NewAccount& account);
  /// By e-mail (case-insensitive) or, failing that, by username.
  std::optional<Account> find_by_login(const std::string& email_or_username);
  std::optional<Account> find_by_id(std::int64_t id);
  /// True when the account exists and is not deactivated (one indexed read: session checks).
  bool is_active(std::int64_t id);
  /// The users among `ids` that exist (active or not), ordered by id.
  std::vector<UserCard> cards(const std::vector<std::int64_t>& ids);
  /// The usernames of `ids` (repeats allowed) by id; unknown ids are absent. One query.
  std::map<std::int64_t, std::string> usernames(std::vector<std::int64_t> ids) {
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    std::map<std::int64_t, std::string> names;
    if (ids.empty()) return names;
    for (auto& card : cards(ids)) names[card.id] = std::move(card.username);
    return names;
  }
  /// Sets each item's `name` from the account its `id` names (empty for unknown ids): how modules
  /// show usernames beside rows that hold only user ids. Call outside the module's transaction:
  /// Accounts borrows its own connection, and holding two at once could exhaust the pool.
  template <class Item>
  void fill_usernames(std::vector<Item>& items, std::int64_t Item::*id, std::string Item::*name) {
    std::vector<std::int64_t> ids;
    for (const Item& item : items) ids.push_back(item.*id);
    auto names = usernames(std::move(ids));
    for (Item& item : items) item.*name = names[item.*id];
  }
  /// True when `blocker` has blocked `blocked`: `blocked` may not message or invite `blocker`.
  bool is_blocked(std::int64_t blocker, std::int64_t blocked);
  /// True when `subscriber` subscribes to `channel` (the host's subscribers may always join a room).
  bool is_subscribed(std::int64_t subscriber, std::int64_t channel);
  /// The users `blocker` has blocked (feeds hide them).
  std::vector<std::int64_t> blocked_ids(std::int64_t blocker);
  /// True when any of `blockers` has blocked `blocked` (one query for a whole group).
  bool blocked_by_any(const std::vector<std::int64_t>& blockers, std::int64_t blocked);
  /// The users among `among` whom `user` blocked or who blocked `user` (either direction), ordered
  /// by id: in group chats each side's messages and events are hidden from the other. One query.
  std::vector<std::int64_t> block_partners(std::int64_t user, const std::vector<std::int64_t>& among);

 private:
  db::Pool& db_;
};

}  // namespace reelhub::users
