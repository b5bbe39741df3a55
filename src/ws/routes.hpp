#pragma once

#include "reelhub/core/app.hpp"

namespace reelhub::ws {

/// GET /ws: the route that carries the ws_connect rate limit. Upgrades never reach its handler
/// (the server hands them to the hub); a plain GET gets 400.
void register_routes(App& app);

}  // namespace reelhub::ws
