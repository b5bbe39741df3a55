#pragma once

namespace reelhub {
struct App;
}

namespace reelhub::videos {

class TranscodeWorkers;

/// Registers /videos (API.md "Videos") and the video HLS files under /hls/{video_id}/...
/// (master.m3u8, playlist.m3u8, thumbnail.jpg, preview.mp4, status, {variant}/{segment}); an
/// upload wakes `workers`, which must outlive the router.
void register_routes(App& app, TranscodeWorkers& workers);

}  // namespace reelhub::videos
