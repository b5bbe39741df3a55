#pragma once
// The narrow interface the users module offers other modules (auth) for accounts: they never
// touch the users table themselves.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "reelhub/db/pool.hpp"
#include "reelhub/http/message.hpp"

namespace reelhub::users {

struct Account {
  std::int64_t id = 0;
  std::string username;
  std::string email;
  http::Role role = http::Role::viewer;
  bool is_active = true;
  std::string password_hash;
  std::string created_at;  // ISO 8601 Z
};

struct NewAccount {
  std::string username;
  std::string email;
  std::string password_hash;
  http::Role role = http::Role::viewer;
};

/// 3-32 characters of [A-Za-z0-9_.-]: the one username rule (register and profile edits).
bool is_valid_username(std::string_view username);

/// Account lookups and creation for the auth module.
class Accounts {
 public:
  explicit Accounts(db::Pool& db) : db_(db) {}
  /// Inserts the account. Throws ApiError(conflict) naming the taken field (email or username).
  Account create(const NewAccount& account);
  /// By e-mail (case-insensitive) or, failing that, by username.
  std::optional<Account> find_by_login(const std::string& email_or_username);
  std::optional<Account> find_by_id(std::int64_t id);

 private:
  db::Pool& db_;
};

}  // namespace reelhub::users
