#pragma once
// JSON shapes of the notifications endpoints and of the `notification.new` event.

#include <nlohmann/json.hpp>

#include "model.hpp"

namespace reelhub::notifications {

/// {id, type, data, is_read, created_at}
nlohmann::json notification_json(const Notification& notification);
/// {notifications: [...], next_cursor, unread_count}
nlohmann::json page_json(const Page& page);
/// {"direct_message": true, "new_subscriber": false, ...}: every type.
nlohmann::json settings_json(const Settings& settings);

}  // namespace reelhub::notifications
