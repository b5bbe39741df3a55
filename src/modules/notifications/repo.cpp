#include "repo.hpp"

#include "reelhub/core/time.hpp"
#include "reelhub/db/statements.hpp"

namespace reelhub::notifications::repo {
namespace {

constexpr const char* kColumns = "id::text, type, data::text, read_at IS NOT NULL AS is_read, created_at";

const db::Statement kTypeEnabled{"notifications.type_enabled", R"sql(
SELECT COALESCE((SELECT enabled FROM notification_settings WHERE user_id = $1 AND type = $2), true)
)sql"};

const db::Statement kInsertNotification{"notifications.insert_notification", std::string(R"sql(
INSERT INTO notifications (user_id, type, data) VALUES ($1, $2, $3::jsonb) RETURNING )sql") + kColumns};

const db::Statement kPosition{"notifications.position",
                              "SELECT n FROM notifications WHERE id = $1::uuid AND user_id = $2"};

// $2 NULL = from the newest; $3 = unread only.
const db::Statement kPage{"notifications.page", std::string("SELECT ") + kColumns + R"sql( FROM notifications
WHERE user_id = $1 AND ($2::bigint IS NULL OR n < $2) AND (NOT $3 OR read_at IS NULL)
ORDER BY n DESC LIMIT $4)sql"};

const db::Statement kUnreadCount{"notifications.unread_count",
                                 "SELECT count(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL"};

const db::Statement kMarkRead{"notifications.mark_read", std::string(R"sql(
UPDATE notifications SET read_at = COALESCE(read_at, now()) WHERE id = $1::uuid AND user_id = $2 RETURNING )sql") +
                                                         kColumns};

const db::Statement kMarkAllRead{"notifications.mark_all_read",
                                 "UPDATE notifications SET read_at = now() WHERE user_id = $1 AND read_at IS NULL"};

const db::Statement kSettings{"notifications.settings",
                              "SELECT type, enabled FROM notification_settings WHERE user_id = $1"};

const db::Statement kStoreSetting{"notifications.store_setting", R"sql(
INSERT INTO notification_settings (user_id, type, enabled) VALUES ($1, $2, $3)
ON CONFLICT (user_id, type) DO UPDATE SET enabled = EXCLUDED.enabled
)sql"};

// The CTE reads the row as it was before this statement, so the caller learns who held the token.
const db::Statement kStorePushToken{"notifications.store_push_token", R"sql(
WITH previous AS (SELECT user_id FROM push_tokens WHERE token = $2)
INSERT INTO push_tokens (token, user_id, platform) VALUES ($2, $1, $3)
ON CONFLICT (token) DO UPDATE SET user_id = EXCLUDED.user_id, platform = EXCLUDED.platform, updated_at = now()
RETURNING (SELECT user_id FROM previous)
)sql"};

const db::Statement kPrunePushTokens{"notifications.prune_push_tokens", R"sql(
DELETE FROM push_tokens WHERE user_id = $1 AND token NOT IN (
  SELECT token FROM push_tokens WHERE user_id = $1 ORDER BY updated_at DESC, token LIMIT $2)
)sql"};

Notification notification_row(const pqxx::row& r) {
  return Notification{.id = r["id"].as<std::string>(),
                      .type = parse_type(r["type"].as<std::string>()).value(),  // written only from Type
                      .data = nlohmann::json::parse(r["data"].as<std::string>()),
                      .is_read = r["is_read"].as<bool>(),
                      .created_at = iso8601_from_pg(r["created_at"].as<std::string>())};
}

std::optional<Notification> first_notification(const pqxx::result& result) {
  if (result.empty()) return std::nullopt;
  return notification_row(result[0]);
}

}  // namespace

bool type_enabled(pqxx::work& tx, std::int64_t user_id, Type type) {
  return tx.exec_prepared1(kTypeEnabled.name(), user_id, std::string(type_name(type)))[0].as<bool>();
}

Notification insert_notification(pqxx::work& tx, std::int64_t user_id, Type type, const nlohmann::json& data) {
  return notification_row(
      tx.exec_prepared1(kInsertNotification.name(), user_id, std::string(type_name(type)), data.dump()));
}

std::optional<std::int64_t> position(pqxx::work& tx, std::int64_t user_id, const std::string& id) {
  const auto result = tx.exec_prepared(kPosition.name(), id, user_id);
  if (result.empty()) return std::nullopt;
  return result[0][0].as<std::int64_t>();
}

std::vector<Notification> page(pqxx::work& tx, std::int64_t user_id, std::optional<std::int64_t> before,
                               bool unread_only, std::int64_t limit) {
  std::vector<Notification> out;
  for (const auto& r : tx.exec_prepared(kPage.name(), user_id, before, unread_only, limit)) {
    out.push_back(notification_row(r));
  }
  return out;
}

std::int64_t unread_count(pqxx::work& tx, std::int64_t user_id) {
  return tx.exec_prepared1(kUnreadCount.name(), user_id)[0].as<std::int64_t>();
}

std::optional<Notification> mark_read(pqxx::work& tx, std::int64_t user_id, const std::string& id) {
  return first_notification(tx.exec_prepared(kMarkRead.name(), id, user_id));
}

std::int64_t mark_all_read(pqxx::work& tx, std::int64_t user_id) {
  return static_cast<std::int64_t>(tx.exec_prepared0(kMarkAllRead.name(), user_id).affected_rows());
}

std::map<Type, bool> settings(pqxx::work& tx, std::int64_t user_id) {
  std::map<Type, bool> out;
  for (const auto& r : tx.exec_prepared(kSettings.name(), user_id)) {
    out[parse_type(r[0].as<std::string>()).value()] = r[1].as<bool>();
  }
  return out;
}

void store_setting(pqxx::work& tx, std::int64_t user_id, Type type, bool enabled) {
  tx.exec_prepared0(kStoreSetting.name(), user_id, std::string(type_name(type)), enabled);
}

std::optional<std::int64_t> store_push_token(pqxx::work& tx, std::int64_t user_id, const std::string& token,
                                             Platform platform) {
  return tx.exec_prepared1(kStorePushToken.name(), user_id, token, std::string(platform_name(platform)))[0]
      .get<std::int64_t>();
}

void prune_push_tokens(pqxx::work& tx, std::int64_t user_id, std::int64_t keep) {
  tx.exec_prepared0(kPrunePushTokens.name(), user_id, keep);
}

}  // namespace reelhub::notifications::repo
