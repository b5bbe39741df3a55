#pragma once

#include <string_view>

#include "reelhub/core/app.hpp"

namespace reelhub {
/// docs/openapi.yaml, embedded at build time.
std::string_view openapi_yaml();
}  // namespace reelhub

namespace reelhub::ops {

/// Health, readiness, metrics and the API description.
void register_routes(App& app);

}  // namespace reelhub::ops
