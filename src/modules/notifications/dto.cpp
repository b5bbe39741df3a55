#include "dto.hpp"

namespace reelhub::notifications {

nlohmann::json notification_json(const Notification& n) {
  return {{"id", n.id},
          {"type", type_name(n.type)},
          {"data", n.data},
          {"is_read", n.is_read},
          {"created_at", n.created_at}};
}

nlohmann::json page_json(const Page& page) {
  nlohmann::json items = nlohmann::json::array();
  for (const auto& n : page.notifications) items.push_back(notification_json(n));
  return {{"notifications", std::move(items)},
          {"next_cursor", page.next_cursor ? nlohmann::json(*page.next_cursor) : nlohmann::json(nullptr)},
          {"unread_count", page.unread_count}};
}

nlohmann::json settings_json(const Settings& settings) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [type, enabled] : settings) out[type_name(type)] = enabled;
  return out;
}

}  // namespace reelhub::notifications
