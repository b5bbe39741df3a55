#pragma once
// The Low-Latency HLS window of one stream (RFC 8216bis, Apple's LL-HLS): fMP4/CMAF segments
// made of partial segments, the part being written, and the init segment, rendered as a media
// playlist with EXT-X-PART, EXT-X-PRELOAD-HINT, EXT-X-SERVER-CONTROL and delta updates.
// Thread-safe: the ingest thread appends, HTTP handlers read; two notifiers wake waiting requests
// (blocking playlist reloads on parts, preload-hinted part responses on bytes).
//
// Segments carry the same media sequence numbers as the MPEG-TS playlist (both are cut at the same
// keyframes by LiveSegmenter), so "segment 41" is the same media in both formats.

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "reelhub/core/change_notifier.hpp"
#include "reelhub/media/live_playlist.hpp"

namespace reelhub::media {

struct LowLatencyPart {
  double duration_seconds = 0;
  bool independent = false;  // starts with a keyframe
  std::shared_ptr<const std::string> data;
};

struct LowLatencySegment {
  std::uint64_t sequence = 0;
  double duration_seconds = 0;
  WallClock::time_point program_date_time;
  bool discontinuity = false;
  std::uint32_t init = 0;  // which init segment (EXT-X-MAP) its fragments need
  std::vector<LowLatencyPart> parts;
  std::shared_ptr<const std::string> data;  // the whole segment: its parts, concatenated
};

/// What an LL-HLS playlist is rendered from (pure, so rendering is unit-tested without a stream).
struct LowLatencyView {
  std::deque<LowLatencySegment> segments;   // finished, oldest first
  std::vector<LowLatencyPart> open_parts;   // finished parts of segment `next_sequence`
  std::uint64_t next_sequence = 0;          // the segment being written
  bool open_discontinuity = false;          // it starts after a publisher reconnected
  std::uint32_t open_init = 0;              // the init its parts need
  std::uint64_t discontinuity_sequence = 0;
  int target_duration = 1;                  // EXT-X-TARGETDURATION, whole seconds
  double part_target_seconds = 0.2;         // EXT-X-PART-INF:PART-TARGET
  bool ended = false;                       // EXT-X-ENDLIST, no preload hint
  /// The open segment is complete enough to be cut at the next keyframe and no part is being
  /// written: the hint names the next segment's first part, the part most likely to come.
  bool hint_next_segment = false;
  std::size_t skipped = 0;                  // a delta update: the first `skipped` segments are left out
};

/// Partial segments are listed for the segments within this many target durations of the end
/// (RFC 8216bis: parts older than three target durations SHOULD be removed).
inline constexpr int kPartsHorizonTargets = 3;
/// How far ahead a blocking reload may ask for a part before it is refused (the spec's Advance
/// Part Limit): three parts, as for parts shorter than a second.
inline constexpr std::uint64_t kAdvancePartLimit = 3;

std::string render_low_latency_playlist(const LowLatencyView& view);
/// CAN-SKIP-UNTIL: the spec's minimum, six target durations.
double skip_boundary_seconds(int target_duration);
/// Segments a delta update leaves out: those that start more than the skip boundary before the
/// end of the playlist.
std::size_t skippable_segments(const LowLatencyView& view);

/// The `_HLS_*` query of a playlist request. Invalid values are the client's error (400).
struct ReloadRequest {
  std::optional<std::uint64_t> msn;   // _HLS_msn: answer once segment msn is listed
  std::optional<std::uint64_t> part;  // _HLS_part: ... or part `part` of it
  bool skip = false;                  // _HLS_skip=YES|v2: a delta update
};
struct ReloadRequestError {
  std::string message;
};
/// nullopt for an absent parameter; a ReloadRequestError when a value is not what the spec allows
/// (not a decimal integer, _HLS_part without _HLS_msn, _HLS_skip neither YES nor v2).
std::variant<ReloadRequest, ReloadRequestError> parse_reload_request(const std::optional<std::string>& msn,
                                                                     const std::optional<std::string>& part,
                                                                     const std::optional<std::string>& skip);

/// "part_<msn>_<i>.m4s", "segment_<msn>.m4s", "init_<k>.mp4": the names the LL playlist lists.
std::string part_file_name(std::uint64_t sequence, std::size_t index);
std::string fmp4_segment_file_name(std::uint64_t sequence);
std::string init_file_name(std::uint32_t init);

/// What an LL-HLS media request names.
struct LowLatencyName {
  enum class Kind { init, segment, part } kind = Kind::segment;
  std::uint64_t sequence = 0;  // segment / part: the media sequence number; init: its number
  std::size_t part = 0;
};
/// The one parser of those names; nullopt for anything else.
std::optional<LowLatencyName> parse_low_latency_name(std::string_view file_name);

/// Where a reload request stands against the window.
enum class ReloadState { ready, wait, too_far };

class LowLatencyPlaylist {
 public:
  /// `window`: finished segments listed; `max_bytes`: what their data may hold (past it the
  /// oldest leave the window, so a stream's memory is bounded however large its segments are).
  LowLatencyPlaylist(std::chrono::milliseconds target_duration, std::chrono::milliseconds part_target,
                     std::size_t window, std::size_t max_bytes, std::uint64_t first_sequence);

  // The ingest side, in stream order.
  /// A publisher's init segment (ftyp + moov); segments after it need it.
  void set_init(std::string init);
  /// Bytes of the part being written (one fragment); the first chunk of a part opens it.
  void append_chunk(std::string_view bytes, bool part_starts_with_keyframe);
  void end_part(double duration_seconds);
  /// The open segment is finished as `sequence` (the number the MPEG-TS playlist gave it).
  void end_segment(std::uint64_t sequence, double duration_seconds, WallClock::time_point program_date_time);
  /// The next segment starts after a break (reconnect): it gets EXT-X-DISCONTINUITY.
  void mark_discontinuity();
  /// The stream stopped: EXT-X-ENDLIST, and every waiting request is answered.
  void end();

  // The HTTP side.
  ReloadState reload_state(const ReloadRequest& request) const;
  /// nullopt until the first part exists.
  std::optional<std::string> render(bool skip) const;
  std::shared_ptr<const std::string> init(std::uint32_t number) const;
  std::shared_ptr<const std::string> segment(std::uint64_t sequence) const;
  /// A finished part, else null.
  std::shared_ptr<const std::string> part(std::uint64_t sequence, std::size_t index) const;
  /// True when part `index` of segment `sequence` is the one being written or one that may be
  /// hinted next (the next part of the open segment, or the first of the next segment): a
  /// request for it is answered while it is written.
  bool part_is_coming(std::uint64_t sequence, std::size_t index) const;
  /// Bytes of part (sequence, index) from `offset`, and whether it is complete; `gone` when it
  /// will never exist (its segment was cut before it, or the stream ended).
  struct PartBytes {
    std::string bytes;
    bool complete = false;
    bool gone = false;
  };
  PartBytes part_bytes(std::uint64_t sequence, std::size_t index, std::size_t offset) const;

  /// Notified when a part or segment is listed, or the stream ends (blocking playlist reloads).
  const std::shared_ptr<ChangeNotifier>& listing_changes() const { return listing_changes_; }
  /// Notified on every chunk too (requests streaming a part as it is written).
  const std::shared_ptr<ChangeNotifier>& byte_changes() const { return byte_changes_; }
  std::chrono::milliseconds target_duration() const { return target_; }
  std::chrono::milliseconds part_target() const { return part_target_; }

 private:
  LowLatencyView view_locked(bool skip) const;
  void trim_locked();

  const std::chrono::milliseconds target_;
  const std::chrono::milliseconds part_target_;
  const std::size_t window_;
  const std::size_t max_bytes_;
  const std::shared_ptr<ChangeNotifier> listing_changes_ = std::make_shared<ChangeNotifier>();
  const std::shared_ptr<ChangeNotifier> byte_changes_ = std::make_shared<ChangeNotifier>();
  mutable std::mutex mutex_;
  std::deque<LowLatencySegment> segments_;
  std::vector<LowLatencyPart> open_parts_;
  std::string open_part_;          // bytes of the part being written
  bool part_open_ = false;
  bool open_part_independent_ = false;
  std::uint64_t next_sequence_;
  std::map<std::uint32_t, std::shared_ptr<const std::string>> inits_;  // those listed segments need
  std::uint32_t current_init_ = 0;
  bool pending_discontinuity_ = false;
  std::uint64_t discontinuity_sequence_ = 0;
  std::size_t bytes_ = 0;
  double longest_ = 0;
  bool ended_ = false;
};

}  // namespace reelhub::media
