#pragma once

#include "service.hpp"

namespace reelhub::modules {
struct Context;
}

namespace reelhub::users {

/// Registers the /users endpoints of API.md (profiles, search, blocks, subscriptions, avatars).
/// `service` must outlive the router.
void register_routes(const modules::Context& ctx, UsersService& service);

}  // namespace reelhub::users
