#pragma once

namespace reelhub::modules {
struct Context;
}

namespace reelhub::rooms {

class RoomService;

/// Registers the /api/rooms endpoints (API.md "Watch-together rooms") and the `room` topic family of
/// ctx.hub, whose subscribers must be participants. `service` must outlive the router.
void register_routes(const modules::Context& ctx, RoomService& service);

}  // namespace reelhub::rooms
