#pragma once

namespace reelhub {
struct App;
}

namespace reelhub::users {

/// Registers the /users endpoints of API.md (profiles, search, blocks, subscriptions, avatars).
void register_routes(App& app);

}  // namespace reelhub::users
