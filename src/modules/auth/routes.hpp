#pragma once
// HTTP surface of the auth module: /auth/register, /auth/login, /auth/refresh, /auth/logout, /auth/validate.

#include "modules/kit/context.hpp"

namespace reelhub::auth {

class AuthService;

/// Registers the auth endpoints on `service`, which must outlive the router.
void register_routes(const modules::Context& ctx, AuthService& service);

}  // namespace reelhub::auth
