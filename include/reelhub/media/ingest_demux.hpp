#pragma once
// The demux half of SRT ingest, apart from the socket: a publisher's MPEG-TS read through an
// AVIOContext with the production demuxer options, its codecs checked, its packets cut into live
// segments. SrtIngestServer feeds it from libsrt; fuzz/ingest_demux.cpp feeds it random bytes.

#include <chrono>
#include <cstddef>
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
  /// The LL-HLS output (fMP4 parts of `part_target`): all three set, or none for MPEG-TS only.
  /// A part comes with the arrival time of the packet that completed it.
  std::chrono::milliseconds part_target{200};
  std::function<void(std::string init)> on_init;
  std::function<void(std::string bytes, bool part_starts_with_keyframe)> on_chunk;
  std::function<void(double seconds, WallClock::time_point arrival)> on_part;
};

/// Why a publisher's stream stopped being read.
struct DemuxEnd {
  std::string reason;  // the codec refusal, the segmenter's refusal, or the demuxer's error
  bool segment_limit = false;  // the open segment would have exceeded max_segment_bytes
};

/// Demuxes `io` (forced `mpegts`, bounded probe size and analyze duration) until it fails or ends,
/// cutting segments of `target_duration` and at most `max_segment_bytes`; H.264 or HEVC video is
/// required, audio must be AAC when present. A packet the segmenter refuses ends the stream, and
/// what it cut and holds is still emitted.
DemuxEnd demux_publisher(AVIOContext& io, std::chrono::milliseconds target_duration, std::size_t max_segment_bytes,
                         const DemuxHooks& hooks);

}  // namespace reelhub::media
