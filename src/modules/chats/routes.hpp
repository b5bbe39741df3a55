#pragma once

namespace reelhub::modules {
struct Context;
}

namespace reelhub::chats {

class ChatService;

/// Registers the /chats endpoints (API.md "Chats") and the `chat` topic family of ctx.hub, whose
/// subscribers must be members. `service` must outlive the router.
void register_routes(const modules::Context& ctx, ChatService& service);

}  // namespace reelhub::chats
