#include "accounts.hpp"

#include <algorithm>

#include "repo.hpp"

namespace reelhub::users {
namespace {

Account to_account(UserRow row) {
  return Account{.id = row.id,
                 .username = std::move(row.username),
                 .email = std::move(row.email),
                 .role = row.role,
                 .is_active = row.is_active,
                 .password_hash = std::move(row.password_hash),
                 .created_at = std::move(row.created_at)};
}

std::optional<Account> to_account(std::optional<UserRow> row) {
  if (!row) return std::nullopt;
  return to_account(std::move(*row));
}

}  // namespace

bool is_valid_username(std::string_view username) {
  return username.size() >= 3 && username.size() <= 32 && std::all_of(username.begin(), username.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                  c == '.' || c == '-';
         });
}

Account Accounts::create(const NewAccount& account) {
  return to_account(db_.transact([&](pqxx::work& tx) {
    return repo::insert_user(tx, account.username, account.email, account.password_hash, account.role);
  }));
}

std::optional<Account> Accounts::find_by_login(const std::string& email_or_username) {
  return to_account(db_.transact([&](pqxx::work& tx) { return repo::find_user_by_login(tx, email_or_username); }));
}

std::optional<Account> Accounts::find_by_id(std::int64_t id) {
  return to_account(db_.read([&](pqxx::nontransaction& tx) { return repo::find_user(tx, id); }));
}

bool Accounts::is_active(std::int64_t id) {
  return db_.transact([&](pqxx::work& tx) { return repo::user_state(tx, id) == UserState::active; });
}

std::vector<UserCard> Accounts::cards(const std::vector<std::int64_t>& ids) {
  const auto rows = db_.transact([&](pqxx::work& tx) { return repo::find_users(tx, ids); });
  std::vector<UserCard> out;
  out.reserve(rows.size());
  for (const auto& row : rows) out.push_back(UserCard{row.id, row.username, row.is_active});
  return out;
}

bool Accounts::is_blocked(std::int64_t blocker, std::int64_t blocked) {
  return db_.transact([&](pqxx::work& tx) { return repo::is_blocked(tx, blocker, blocked); });
}

bool Accounts::is_subscribed(std::int64_t subscriber, std::int64_t channel) {
  return db_.transact([&](pqxx::work& tx) { return repo::is_subscribed(tx, subscriber, channel); });
}

std::vector<std::int64_t> Accounts::blocked_ids(std::int64_t blocker) {
  std::vector<std::int64_t> ids;
  for (const auto& row : db_.transact([&](pqxx::work& tx) { return repo::blocked_users(tx, blocker); })) {
    ids.push_back(row.id);
  }
  return ids;
}

bool Accounts::blocked_by_any(const std::vector<std::int64_t>& blockers, std::int64_t blocked) {
  return db_.transact([&](pqxx::work& tx) { return repo::blocked_by_any(tx, blocked, blockers); });
}

std::vector<std::int64_t> Accounts::block_partners(std::int64_t user, const std::vector<std::int64_t>& among) {
  if (among.empty()) return {};
  return db_.transact([&](pqxx::work& tx) { return repo::block_partners(tx, user, among); });
}

}  // namespace reelhub::users
