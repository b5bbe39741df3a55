#pragma once

namespace reelhub::modules {
struct Context;
class MediaDelivery;
}

namespace reelhub::videos {

class VideoService;

/// Registers /videos (API.md "Videos") and the video HLS files under /hls/{video_id}/...
/// (master.m3u8, playlist.m3u8, thumbnail.jpg, preview.mp4, status, {variant}/{segment}).
/// Files are answered through `delivery` (sendfile, redirect or proxy). Both must outlive the router.
void register_routes(const modules::Context& ctx, VideoService& service, const modules::MediaDelivery& delivery);

}  // namespace reelhub::videos
