#pragma once
// Turning a live stream's HLS segments into one VOD file: the order of the segments, one
// continuous timeline across publisher reconnects, the remux into a faststart MP4 and a JPEG
// thumbnail. Pure libav work, no database: the recordings module runs it on its worker threads.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "reelhub/media/live_playlist.hpp"

namespace reelhub::media {

/// The live segments in `dir`, ordered by n (numerically: segment_9 before segment_10; gaps
/// allowed). Other files are ignored; a missing directory has none.
std::vector<std::filesystem::path> ordered_segments(const std::filesystem::path& dir);

/// Maps the timestamps of consecutive input segments onto one continuous output timeline that
/// starts at 0. A publisher reconnect restarts or jumps its clock; any jump of a stream's
/// timestamp away from where that stream ended, backwards or forwards by more than `tolerance`,
/// shifts everything after it so that it continues right there. Within the tolerance, timestamps
/// stay as they are, so the small lead audio has over video (or the reverse) is kept.
/// All values share one time base (the caller's, e.g. 1/90000).
class Timeline {
 public:
  /// What happens to a packet that would not come after its stream's previous one (a reset
  /// run's audio starting before the old run's audio ended, a small step back): audio is
  /// dropped (a few ms missing), video is kept and moved just behind the previous frame (its
  /// references must decode).
  enum class Overlap { drop, squeeze };

  explicit Timeline(std::int64_t tolerance) : tolerance_(tolerance) {}

  /// Makes input time `origin` output time 0 (call before the first packet; by default the
  /// first packet's dts is 0). The earliest presentation time of the first segment is the
  /// right origin: a stream that starts before another's first packet then starts at 0 too.
  void start_at(std::int64_t origin) { offset_ = -origin; }
  /// The output dts of a packet of output stream `stream` with input `dts` and `duration`
  /// (0 when unknown: the stream's last frame interval is assumed), or nullopt when the packet
  /// is to be dropped. Output dts of one stream strictly increase, as MP4 requires. Add
  /// (result - dts) to the packet's pts too.
  std::optional<std::int64_t> place(std::size_t stream, std::int64_t dts, std::int64_t duration,
                                    Overlap overlap = Overlap::squeeze);
  /// Where the output ends: the latest end of any stream (0 before the first packet).
  std::int64_t end() const { return end_; }

 private:
  struct Track {
    bool started = false;
    std::int64_t last_dts = 0;  // output
    std::int64_t step = 0;      // last positive dts interval: the duration of packets without one
    std::int64_t end = 0;       // output dts + duration of the last packet
  };

  std::int64_t tolerance_;
  std::optional<std::int64_t> offset_;  // added to input timestamps; set by the first packet
  std::vector<Track> tracks_;
  std::int64_t end_ = 0;
};

/// A failure of the media itself (nothing playable, an unwritable output): the recording fails
/// with this message as its reason.
struct MediaError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Thrown out of remux_segments_to_mp4 when `cancelled` returned true (process shutting down).
struct Cancelled : std::runtime_error {
  Cancelled() : std::runtime_error("cancelled") {}
};

struct RemuxResult {
  double duration_seconds = 0;
  std::size_t segments_used = 0;
  std::size_t segments_skipped = 0;  // unreadable, or no stream matching the output's
};

/// Remuxes (no re-encode) MPEG-TS `segments`, in the given order, into one MP4 at `output`
/// with the index (moov) before the media (faststart). The first segment with a video stream
/// decides the output's streams (its first video and first audio stream); later segments
/// contribute the streams of the same codecs. A truncated or corrupt segment contributes what
/// could be read. Throws MediaError when no segment has a readable video stream or `output`
/// cannot be written, Cancelled when `cancelled()` turns true (checked between packets).
RemuxResult remux_segments_to_mp4(const std::vector<std::filesystem::path>& segments,
                                  const std::filesystem::path& output, const std::function<bool()>& cancelled);

/// A JPEG of the keyframe at or before `at_seconds` of `video` (an MP4), scaled to at most
/// `max_width` pixels wide with even dimensions. Throws MediaError when no picture decodes.
std::string thumbnail_from_keyframe(const std::filesystem::path& video, double at_seconds, int max_width);

}  // namespace reelhub::media
