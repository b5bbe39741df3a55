#pragma once
// Who the caller is: the identity a verified access token carries. It belongs to auth, not to
// http, so services and the WebSocket hub can take a caller without knowing any HTTP type.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace reelhub::auth {

enum class Role { viewer = 0, streamer = 1, admin = 2 };
const char* role_name(Role r);
std::optional<Role> parse_role(std::string_view s);

/// The authenticated caller, taken from a verified access token.
struct AuthUser {
  std::int64_t id = 0;
  std::string username;
  Role role = Role::viewer;
  std::string session_id;  // refresh-token family the access token was issued for
  /// When the access token stops being accepted (its exp plus the clock-skew leeway): an open
  /// WebSocket authenticated with it is closed then.
  std::chrono::system_clock::time_point valid_until{};
};

}  // namespace reelhub::auth
