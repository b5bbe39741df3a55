#include "ws/routes.hpp"

#include "reelhub/core/error.hpp"
#include "reelhub/ws/live_hub.hpp"

namespace reelhub::ws {

void register_routes(App& app) {
  const http::RouteOptions options{.access = http::Access::public_, .rate_policy = "ws_connect", .blocking = false};
  app.router.add(
      "GET", kEndpointPath,
      [](http::Request&) -> http::Response {
        throw ApiError(ErrorCode::bad_request, "GET /ws is a WebSocket endpoint: send an Upgrade: websocket request");
      },
      options);
}

}  // namespace reelhub::ws
