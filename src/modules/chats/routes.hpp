#pragma once

namespace reelhub {
struct App;
}

namespace reelhub::notifications {
class NotificationService;
}

namespace reelhub::chats {

/// Registers the /chats endpoints (API.md "Chats") and the `chat` topic family of app.hub, whose
/// subscribers must be members. `notifications` must outlive the router.
void register_routes(App& app, notifications::NotificationService& notifications);

}  // namespace reelhub::chats
