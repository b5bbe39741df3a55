#pragma once
// SQL of the notifications module. Only this module reads or writes notifications,
// notification_settings and push_tokens.

#include <cstdint>
#include <map>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "model.hpp"

namespace reelhub::notifications::repo {

/// False only when the user turned `type` off.
bool type_enabled(pqxx::work& tx, std::int64_t user_id, Type type);
Notification insert_notification(pqxx::work& tx, std::int64_t user_id, Type type, const nlohmann::json& data);

/// Keyset position of one of the user's notifications (a page cursor); nullopt when unknown.
std::optional<std::int64_t> position(pqxx::work& tx, std::int64_t user_id, const std::string& id);
/// Up to `limit` of the user's notifications, newest first, older than `before` when given.
std::vector<Notification> page(pqxx::work& tx, std::int64_t user_id, std::optional<std::int64_t> before,
                               bool unread_only, std::int64_t limit);
std::int64_t unread_count(pqxx::work& tx, std::int64_t user_id);
/// Marks it read (idempotent); nullopt when the user has no such notification.
std::optional<Notification> mark_read(pqxx::work& tx, std::int64_t user_id, const std::string& id);
/// Returns how many were unread.
std::int64_t mark_all_read(pqxx::work& tx, std::int64_t user_id);

/// The stored overrides; types without one are on.
std::map<Type, bool> settings(pqxx::work& tx, std::int64_t user_id);
void store_setting(pqxx::work& tx, std::int64_t user_id, Type type, bool enabled);

/// Stores the device token for `user_id`, taking it over from whoever had it. Returns the user
/// the token belonged to before, nullopt when it is new.
std::optional<std::int64_t> store_push_token(pqxx::work& tx, std::int64_t user_id, const std::string& token,
                                             Platform platform);
/// Deletes all but the user's `keep` most recently registered tokens.
void prune_push_tokens(pqxx::work& tx, std::int64_t user_id, std::int64_t keep);

}  // namespace reelhub::notifications::repo
