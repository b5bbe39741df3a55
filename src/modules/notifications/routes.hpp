#pragma once

namespace reelhub::modules {
struct Context;
}

namespace reelhub::notifications {

class NotificationService;

/// Registers the /notifications endpoints (seed 000) on `service`, which must outlive the router.
void register_routes(const modules::Context& ctx, NotificationService& service);

}  // namespace reelhub::notifications
