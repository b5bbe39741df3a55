#pragma once
// HTTP surface of the auth module: /auth/register, /auth/login, /auth/refresh, /auth/logout, /auth/validate.

#include "reelhub/core/app.hpp"

namespace reelhub::auth {

void register_routes(App& app);

}  // namespace reelhub::auth
