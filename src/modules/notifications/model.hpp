#pragma once
// What the notifications module stores: notifications by type, per-type settings, push platforms.

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace reelhub::notifications {

/// The closed set of notification types; each can be turned off in the settings.
enum class Type { direct_message, new_subscriber, room_invite, stream_live, donation, chat_invite };

/// Every type, in the order the settings list them.
const std::vector<Type>& all_types();
const char* type_name(Type type);
std::optional<Type> parse_type(std::string_view name);

enum class Platform { ios, android, web };
const char* platform_name(Platform platform);
std::optional<Platform> parse_platform(std::string_view name);

struct Notification {
  std::string id;  // uuid
  Type type = Type::direct_message;
  nlohmann::json data;  // the producer's payload (chat_id, subscriber_id, ...)
  bool is_read = false;
  std::string created_at;  // ISO 8601 Z
};

/// Whether each type is delivered; every type has an entry.
using Settings = std::map<Type, bool>;

struct Page {
  std::vector<Notification> notifications{};  // newest first
  std::optional<std::string> next_cursor{};  // nullopt on the last page
  std::int64_t unread_count = 0;              // of all the caller's notifications, not just this page
};

}  // namespace reelhub::notifications
