#pragma once
// Live streams (seed 002): /api/streams, /live/streams, /stream/{id}/status and the live HLS
// playlist and segments under /hls/{stream_id}/.

#include "service.hpp"

namespace reelhub::modules {
struct Context;
}

namespace reelhub::streams {

/// Registers the routes and the `stream` hub topic.
void register_routes(const modules::Context& ctx, StreamService& service);

}  // namespace reelhub::streams
