#pragma once

#include "service.hpp"

namespace reelhub {
struct App;
}

namespace reelhub::users {

/// Registers the /users endpoints of API.md (profiles, search, blocks, subscriptions, avatars).
/// `on_subscribed` runs after each new subscription (main wires it to notifications).
void register_routes(App& app, SubscribedHook on_subscribed = {});

}  // namespace reelhub::users
