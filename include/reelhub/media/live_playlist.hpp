#pragma once
// The live HLS window of one stream: the last N finished segments, rendered as a media playlist
// and served from memory. Thread-safe: the ingest thread appends, HTTP handlers read. The
// Low-Latency HLS window of the same stream (fMP4 parts) is LowLatencyPlaylist (ll_playlist.hpp).

#include <chrono>
#include <filesystem>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace reelhub::media {

using WallClock = std::chrono::system_clock;

/// One finished MPEG-TS segment. `data` is shared with every response that sends it.
struct LiveSegment {
  std::uint64_t sequence = 0;       // media sequence number, also the file name segment_<n>.ts
  double duration_seconds = 0;
  WallClock::time_point program_date_time;  // when its first frame arrived over SRT
  bool discontinuity = false;               // first segment after a publisher reconnected
  std::shared_ptr<const std::string> data;  // null once released from memory (on disk only)
};

/// What a playlist is rendered from (pure, so rendering is unit-tested without a stream).
struct PlaylistView {
  std::deque<LiveSegment> segments;  // oldest first, at most `window` of them
  std::uint64_t discontinuity_sequence = 0;  // discontinuities that slid out of the window
  int target_duration = 2;                   // EXT-X-TARGETDURATION, whole seconds
  bool ended = false;                        // EXT-X-ENDLIST: the stream was stopped
};

std::string render_playlist(const PlaylistView& view);

/// A whole decimal number without sign or spaces (the numbers in media file names, `_HLS_*`
/// values); nullopt for anything else or a number past 64 bits.
std::optional<std::uint64_t> parse_unsigned(std::string_view digits);
/// n of a segment's file name "segment_<n>.ts" (decimal, no sign); nullopt for any other name.
/// The one parser of the names render_playlist lists (HLS requests, files on disk).
std::optional<std::int64_t> segment_number(std::string_view file_name);
/// "segment_<n>.ts": the name of live segment n in playlists and on disk.
std::string segment_file_name(std::uint64_t n);
/// Where a live stream's segments are written: <media_root>/live/<stream_id>.
std::filesystem::path live_dir(const std::filesystem::path& media_root, std::string_view stream_id);

class LivePlaylist {
 public:
  /// `window`: segments listed; `keep`: segments kept in memory (>= window, for late players).
  /// `max_bytes`: what the kept segments' data may hold; past it the oldest release their bytes
  /// (they stay listed and are served from their files), so a channel's memory is bounded
  /// however large its segments are.
  LivePlaylist(std::chrono::milliseconds target_duration, std::size_t window, std::size_t keep,
               std::size_t max_bytes, std::uint64_t first_sequence);

  /// Next segment number: continues across publisher reconnects (and server restarts, where the
  /// caller passes the number after the last one on disk).
  std::uint64_t next_sequence() const;
  /// The next appended segment starts after a break (reconnect): it gets EXT-X-DISCONTINUITY.
  void mark_discontinuity();
  void append(LiveSegment segment);
  void end();

  /// nullopt until the first segment exists (players get 404 and retry, as with any HLS origin).
  std::optional<std::string> render() const;
  /// A segment still held in memory, else null (the caller falls back to the file on disk).
  std::shared_ptr<const std::string> segment(std::uint64_t sequence) const;
  std::size_t segments_listed() const;
  /// Bytes of segment data held in memory (at most `max_bytes`).
  std::size_t bytes_in_memory() const;
  std::chrono::milliseconds target_duration() const { return target_; }

 private:
  const std::chrono::milliseconds target_;
  const std::size_t window_;
  const std::size_t keep_;
  const std::size_t max_bytes_;
  mutable std::mutex mutex_;
  std::deque<LiveSegment> kept_;  // oldest first; the last `window_` are listed
  std::uint64_t next_sequence_;
  std::size_t bytes_in_memory_ = 0;  // sum of the kept segments' data sizes
  std::uint64_t discontinuity_sequence_ = 0;
  bool pending_discontinuity_ = false;
  bool ended_ = false;
  double longest_ = 0;
};

}  // namespace reelhub::media
