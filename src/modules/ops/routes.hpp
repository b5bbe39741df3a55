#pragma once

#include <string_view>

#include "modules/kit/context.hpp"

namespace reelhub {
/// docs/openapi.yaml, embedded at build time.
std::string_view openapi_yaml();
}  // namespace reelhub

namespace reelhub::ops {

class HealthService;

/// Health, readiness, metrics and the API description; `health` must outlive the router.
void register_routes(const modules::Context& ctx, HealthService& health);

}  // namespace reelhub::ops
