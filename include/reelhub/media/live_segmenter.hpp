#pragma once
// Cuts one publisher's packets into MPEG-TS segments on keyframes, without re-encoding.
// One long-lived mpegts muxer writes into the open segment's buffer; at a cut the muxer is
// flushed and the buffer becomes a finished segment, so continuity counters and timing stay
// continuous across segments as players expect (the same approach as FFmpeg's hlsenc).
// The same cuts, and parts within them, go to the LL-HLS output (fragmented MP4), so segment n
// holds the same media in both formats.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "reelhub/media/ffmpeg.hpp"
#include "reelhub/media/fmp4_fragmenter.hpp"
#include "reelhub/media/live_playlist.hpp"

namespace reelhub::media {

/// A finished segment before it has a sequence number (the stream's playlist assigns it).
struct CutSegment {
  double duration_seconds = 0;
  WallClock::time_point program_date_time;
  std::string data;
};

/// A packet would take the open segment past its byte limit: the publisher's fault, not a defect
/// of the stream's data (counted apart in metrics).
struct SegmentLimitExceeded : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Where the LL-HLS output goes: partial segments of fragmented MP4. Each video frame becomes
/// one fragment (a chunk), so a part can be sent while it is written; a part ends after the
/// frame past which the next would not fit in `part_target`, or at a segment cut.
struct PartOutput {
  std::chrono::milliseconds part_target{200};
  /// The init segment (ftyp + moov), once, before the first chunk.
  std::function<void(std::string)> on_init;
  /// A fragment of the open part, and whether that part starts with a keyframe.
  std::function<void(std::string bytes, bool part_starts_with_keyframe)> on_chunk;
  /// The open part is complete, `seconds` long. Comes before the segment it ends is cut.
  std::function<void(double seconds)> on_part;
};

class LiveSegmenter {
 public:
  using SegmentReady = std::function<void(CutSegment)>;

  /// `input`: the demuxer whose streams `video_index` (or -1) and `audio_index` (or -1) are copied.
  /// `max_segment_bytes`: the open segment is memory until it is cut, and timestamps that crawl
  /// (or a GOP that never ends) would keep it open for ever: once it holds half of this, the next
  /// keyframe cuts it whatever its duration, and a packet that would take it past this is refused.
  /// `first_data`: when the publisher's first bytes arrived; program dates count media time from
  /// it, because probing the stream holds the first seconds back before they reach write().
  /// `parts`: the LL-HLS output, or nullopt for MPEG-TS only. A failure of the fMP4 muxer
  /// stops that output only (logged): the MPEG-TS segments and so the recording carry on.
  LiveSegmenter(const AVFormatContext& input, int video_index, int audio_index,
                std::chrono::milliseconds target_duration, std::size_t max_segment_bytes,
                WallClock::time_point first_data, SegmentReady on_segment,
                std::optional<PartOutput> parts = std::nullopt);
  ~LiveSegmenter();
  LiveSegmenter(const LiveSegmenter&) = delete;
  LiveSegmenter& operator=(const LiveSegmenter&) = delete;

  /// Takes a demuxed packet (input stream index) that arrived at `arrival`. Packets of other
  /// streams are ignored. Throws std::runtime_error when the publisher's stream cannot be cut
  /// (no keyframe for far too long in media time or in bytes, muxer errors); the packet is then
  /// not written, so finish() still emits what the open segment holds. SegmentLimitExceeded for
  /// the byte limit.
  void write(AVPacket& packet, WallClock::time_point arrival);
  /// Emits the open segment, if any (publisher gone or stream stopped).
  void finish();

 private:
  static int on_write(void* opaque, std::uint8_t* buf, int size);
  void cut(std::int64_t end_pts);
  double seconds(std::int64_t pts_delta) const;
  /// Bytes of the open segment, including what the AVIOContext still buffers.
  std::size_t open_bytes() const;
  /// The LL-HLS side of a packet: into the open fragment, and after a clock frame the fragment
  /// is flushed as a chunk of the open part, which ends when the next frame would not fit.
  void write_part(const AVPacket& packet, bool clock, bool key);
  /// Ends the open part (a cut or the end of the stream) at clock dts `end`.
  void end_part(std::int64_t end);
  void stop_parts(const std::exception& e);

  std::chrono::milliseconds target_;
  std::size_t max_bytes_;
  SegmentReady on_segment_;
  int input_video_;
  int clock_input_;  // the stream whose timestamps measure segment length (video when present)
  AVRational clock_time_base_;
  OutputFormatPtr muxer_;
  IOContextPtr io_;
  std::vector<int> output_index_;  // input index -> output index, -1 when not copied
  std::vector<AVRational> input_time_base_;
  std::string open_;               // bytes of the segment being written
  std::int64_t open_offset_ = 0;   // muxer output position where the open segment began
  bool started_ = false;           // the first keyframe was seen
  std::int64_t segment_start_ = 0;  // clock pts of the open segment's first frame
  std::int64_t last_clock_end_ = 0;  // clock pts + duration of the latest clock packet
  WallClock::time_point segment_arrival_;  // program date of the open segment
  WallClock::time_point anchor_wall_;      // first_data, matched to anchor_pts_
  bool anchored_ = false;
  std::int64_t anchor_pts_ = 0;            // first packet's pts, in the clock stream's time base
  /// When the frame at clock pts `ts` entered: media time after the anchor, but never later
  /// than it reached us (a publisher slower than real time must not date segments in the future).
  WallClock::time_point program_date(std::int64_t ts, WallClock::time_point arrival) const;

  std::optional<PartOutput> parts_;
  std::unique_ptr<Fmp4Fragmenter> fragmenter_;  // null without parts_, or once it failed
  bool part_open_ = false;
  std::int64_t part_start_ = 0;  // clock dts of the open part's first frame
  bool part_independent_ = false;  // the open part starts with a keyframe
  std::int64_t last_clock_dts_end_ = 0;  // clock dts + duration of the latest clock packet
  std::int64_t previous_frame_dts_ = AV_NOPTS_VALUE;  // of the clock packet before, for frames without a duration
};

}  // namespace reelhub::media
