#pragma once

#include "service.hpp"

namespace reelhub::modules {
struct Context;
class MediaDelivery;
}

namespace reelhub::users {

/// Registers the /users endpoints of API.md (profiles, search, blocks, subscriptions, avatars).
/// Avatars are answered through `delivery` (sendfile, redirect or proxy). Both must outlive the router.
void register_routes(const modules::Context& ctx, UsersService& service, const modules::MediaDelivery& delivery);

}  // namespace reelhub::users
