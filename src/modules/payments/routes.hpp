#pragma once

namespace reelhub::modules {
struct Context;
}

namespace reelhub::payments {

class PaymentService;

/// Registers POST /live/donate and the /payments endpoints (seed 000) on `service`, which must
/// outlive the router.
void register_routes(const modules::Context& ctx, PaymentService& service);

}  // namespace reelhub::payments
