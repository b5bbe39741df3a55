#include "service.hpp"

#include <spdlog/spdlog.h>

#include "dto.hpp"
#include "reelhub/core/error.hpp"
#include "reelhub/core/validation.hpp"
#include "repo.hpp"

namespace reelhub::notifications {
namespace {

/// Every type, on unless an override says otherwise.
Settings with_defaults(const std::map<Type, bool>& overrides) {
  Settings out;
  for (const Type type : all_types()) {
    const auto it = overrides.find(type);
    out[type] = it == overrides.end() || it->second;
  }
  return out;
}

}  // namespace

std::optional<Notification> NotificationService::notify(std::int64_t user_id, Type type,
                                                        const nlohmann::json& data) noexcept {
  try {
    auto stored = db_.transact([&](pqxx::work& tx) -> std::optional<Notification> {
      if (!repo::type_enabled(tx, user_id, type)) return std::nullopt;
      return repo::insert_notification(tx, user_id, type, data);
    });
    if (stored) hub_.send_to_user(user_id, "notification.new", notification_json(*stored));
    return stored;
  } catch (const std::exception& e) {
    spdlog::warn("notification {} for user {} not delivered: {}", type_name(type), user_id, e.what());
    return std::nullopt;
  }
}

void NotificationService::notify_new_subscriber(std::int64_t channel_id, const auth::AuthUser& subscriber) noexcept {
  notify(channel_id, Type::new_subscriber,
         {{"subscriber_id", subscriber.id}, {"subscriber_username", subscriber.username}});
}

Page NotificationService::list(const auth::AuthUser& caller, const PageRequest& request) {
  return db_.transact([&](pqxx::work& tx) {
    std::optional<std::int64_t> before;
    if (request.cursor) {
      if (is_valid_uuid(*request.cursor)) before = repo::position(tx, caller.id, *request.cursor);
      if (!before) {
        throw ApiError(ErrorCode::validation_failed, "Invalid cursor", {{"cursor", {"is not a cursor of this list"}}});
      }
    }
    // One row more than asked tells whether another page follows.
    Page page{.notifications = repo::page(tx, caller.id, before, request.unread_only, request.limit + 1)};
    if (static_cast<std::int64_t>(page.notifications.size()) > request.limit) {
      page.notifications.pop_back();
      page.next_cursor = page.notifications.back().id;
    }
    page.unread_count = repo::unread_count(tx, caller.id);
    return page;
  });
}

Notification NotificationService::mark_read(const auth::AuthUser& caller, const std::string& id) {
  auto marked = is_valid_uuid(id)
                    ? db_.transact([&](pqxx::work& tx) { return repo::mark_read(tx, caller.id, id); })
                    : std::nullopt;
  if (!marked) throw ApiError(ErrorCode::not_found, "Notification not found");
  return *marked;
}

std::int64_t NotificationService::mark_all_read(const auth::AuthUser& caller) {
  return db_.transact([&](pqxx::work& tx) { return repo::mark_all_read(tx, caller.id); });
}

Settings NotificationService::settings(const auth::AuthUser& caller) {
  return with_defaults(db_.transact([&](pqxx::work& tx) { return repo::settings(tx, caller.id); }));
}

Settings NotificationService::update_settings(const auth::AuthUser& caller, const Settings& changes) {
  return with_defaults(db_.transact([&](pqxx::work& tx) {
    for (const auto& [type, enabled] : changes) repo::store_setting(tx, caller.id, type, enabled);
    return repo::settings(tx, caller.id);
  }));
}

bool NotificationService::register_push_token(const auth::AuthUser& caller, const std::string& token,
                                              Platform platform) {
  return db_.transact([&](pqxx::work& tx) {
    const auto previous_owner = repo::store_push_token(tx, caller.id, token, platform);
    repo::prune_push_tokens(tx, caller.id, kMaxPushTokens);
    return previous_owner != caller.id;
  });
}

}  // namespace reelhub::notifications
