#pragma once
// The demux half of SRT ingest, apart from the socket: a publisher's MPEG-TS read through an
// AVIOContext with the production demuxer options, its codecs checked, its packets cut into live
// segments. SrtIngestServer feeds it from libsrt; fuzz/ingest_demux.cpp feeds it random bytes.

#include <chrono>
#include <functional>
#include <string>

#include "reelhub/media/live_segmenter.hpp"

namespace reelhub::media {

/// How much media the demuxer analyzes to find the streams (its `analyzeduration`).
inline constexpr std::chrono::seconds kDemuxAnalyzeDuration{2};

struct DemuxHooks {
  /// When the publisher's first bytes arrived; asked once, after the streams are probed.
  std::function<WallClock::time_point()> first_data;
  /// A finished segment, with the arrival time of the packet that finished it.
  std::function<void(CutSegment, WallClock::time_point arrival)> on_segment;
  /// After each demuxed packet (stall deadlines, link statistics); may be empty.
  std::function<void()> on_packet;
};

/// Demuxes `io` (forced `mpegts`, bounded probe size and analyze duration) until it fails or ends,
/// emitting segments; H.264 or HEVC video is required, audio must be AAC when present. Returns why
/// it stopped: the codec refusal, or the demuxer's error ("stream ended: End of file").
/// Throws what LiveSegmenter::write throws for a stream that cannot be cut.
std::string demux_publisher(AVIOContext& io, std::chrono::milliseconds target_duration, const DemuxHooks& hooks);

}  // namespace reelhub::media
