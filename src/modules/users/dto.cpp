#include "dto.hpp"

#include "reelhub/core/json.hpp"

namespace reelhub::users {

nlohmann::json profile_json(const Profile& p) {
  nlohmann::json out = {
      {"id", p.id},
      {"username", p.username},
      {"role", auth::role_name(p.role)},
      {"display_name", nullable(p.display_name)},
      {"bio", nullable(p.bio)},
      {"avatar_url", nullable(p.avatar_url)},
      {"subscribers_count", p.subscribers_count},
      {"created_at", p.created_at},
  };
  if (p.email) out["email"] = *p.email;
  if (p.is_active) out["is_active"] = *p.is_active;
  if (p.subscriptions_count) out["subscriptions_count"] = *p.subscriptions_count;
  return out;
}

nlohmann::json profiles_json(const std::vector<Profile>& profiles) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& p : profiles) out.push_back(profile_json(p));
  return out;
}

nlohmann::json page_json(const char* key, const ProfilePage& page, const PageRequest& request) {
  return {{key, profiles_json(page.users)},
          {"total", page.total},
          {"limit", request.limit},
          {"offset", request.offset}};
}

nlohmann::json subscription_json(const char* message, const Subscription& subscription) {
  return {{"message", message},
          {"channel_id", subscription.channel_id},
          {"subscribers_count", subscription.subscribers_count}};
}

}  // namespace reelhub::users
