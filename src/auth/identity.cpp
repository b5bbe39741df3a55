#include "reelhub/auth/identity.hpp"

namespace reelhub::auth {

const char* role_name(Role r) {
  switch (r) {
    case Role::admin: return "admin";
    case Role::streamer: return "streamer";
    case Role::viewer: return "viewer";
  }
  return "viewer";
}

std::optional<Role> parse_role(std::string_view s) {
  if (s == "admin") return Role::admin;
  if (s == "streamer") return Role::streamer;
  if (s == "viewer") return Role::viewer;
  return std::nullopt;
}

}  // namespace reelhub::auth
