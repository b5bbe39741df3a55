#pragma once
// JSON shapes of the users endpoints (API.md, Users).

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "model.hpp"

namespace reelhub::users {

/// Writes exactly the fields the service filled in: private ones appear only when present.
nlohmann::json profile_json(const Profile& profile);
nlohmann::json profiles_json(const std::vector<Profile>& profiles);
/// {<key>: [...], total, limit, offset}
nlohmann::json page_json(const char* key, const ProfilePage& page, const PageRequest& request);
/// {message, channel_id, subscribers_count}
nlohmann::json subscription_json(const char* message, const Subscription& subscription);

}  // namespace reelhub::users
