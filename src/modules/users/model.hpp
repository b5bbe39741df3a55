#pragma once
// The users module's values, as the service returns them and the dto writes them.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "reelhub/auth/identity.hpp"

namespace reelhub::users {

/// A user as one caller may see them. The private fields are filled only when that caller may
/// see them (the user themself, or an admin's user list), so a view cannot leak what it lacks.
struct Profile {
  std::int64_t id = 0;
  std::string username{};
  auth::Role role = auth::Role::viewer;
  std::optional<std::string> display_name{};
  std::optional<std::string> bio{};
  std::optional<std::string> avatar_url{};  // null without an avatar
  std::int64_t subscribers_count = 0;
  std::string created_at{};
  // Private
  std::optional<std::string> email{};
  std::optional<bool> is_active{};
  std::optional<std::int64_t> subscriptions_count{};
};

struct ProfilePage {
  std::vector<Profile> users{};
  std::int64_t total = 0;
};

struct PageRequest {
  std::int64_t limit = 50;
  std::int64_t offset = 0;
};

/// A channel's subscriber count after a subscribe or unsubscribe.
struct Subscription {
  std::int64_t channel_id = 0;
  std::int64_t subscribers_count = 0;
};

}  // namespace reelhub::users
