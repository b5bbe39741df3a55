#pragma once

namespace reelhub::media {

/// Routes libav*'s log lines through spdlog at the level spdlog is set to (call after
/// init_logging). libav* logs to stderr by default, outside our format.
void route_libav_logs();

}  // namespace reelhub::media
