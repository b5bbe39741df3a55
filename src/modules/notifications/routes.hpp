#pragma once

namespace reelhub {
struct App;
}

namespace reelhub::notifications {

class NotificationService;

/// Registers the /notifications endpoints (seed 000) on `service`, which must outlive the router.
void register_routes(App& app, NotificationService& service);

}  // namespace reelhub::notifications
