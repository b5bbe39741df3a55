#pragma once
// Live streams (seed 002): /api/streams, /live/streams, /stream/{id}/status and the live HLS
// playlist and segments under /hls/{stream_id}/.

#include "service.hpp"

namespace reelhub {
struct App;
}

namespace reelhub::streams {

/// Registers the routes and the `stream` hub topic.
void register_routes(App& app, std::shared_ptr<StreamService> service);

}  // namespace reelhub::streams
