#pragma once
// The in-memory state of started streams, shared by the SRT listener (which must never wait on
// the database), the ingest sessions and the HLS handlers. The streams module keeps it current:
// start opens a channel, stop closes it.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "reelhub/media/live_playlist.hpp"
#include "reelhub/media/live_segmenter.hpp"
#include "reelhub/media/ll_playlist.hpp"

namespace reelhub::media {

struct LiveOptions {
  std::chrono::milliseconds target_duration{1000};
  std::chrono::milliseconds part_target{200};  // LL-HLS partial segments
  std::size_t window = 6;
  std::chrono::seconds stall_timeout{5};  // no data for this long: the publisher is gone
  // What one publisher may cost (docs/architecture.md, "Live limits"); defaults fit a
  // max_bitrate_kbps publisher with keyframes up to 10 target durations apart.
  std::size_t max_segment_bytes = std::size_t{64} << 20;  // the open segment (LiveSegmenter)
  std::size_t max_channel_bytes = std::size_t{64} << 20;  // finished segments held in memory
  int max_bitrate_kbps = 25000;  // MPEG-TS received, averaged over kBitrateWindow
};

/// What an operator looks at when a streamer says "it stutters": the publisher's SRT link
/// (from srt_bstats) and how fast finished segments reach the playlist.
struct IngestStats {
  double rtt_ms = 0;
  double receive_mbps = 0;
  std::int64_t packets_received = 0;
  std::int64_t packets_lost = 0;
  std::int64_t packets_retransmitted = 0;
  std::int64_t packets_dropped = 0;
  double last_segment_lag_ms = 0;  // from the frame that closed a segment arriving to it being listed
  double last_segment_seconds = 0;
};

/// One started stream.
class LiveChannel {
 public:
  LiveChannel(std::string stream_id, std::string passphrase, std::filesystem::path dir, const LiveOptions& options);

  const std::string& stream_id() const { return stream_id_; }
  const std::string& passphrase() const { return passphrase_; }
  const std::filesystem::path& dir() const { return dir_; }
  LivePlaylist& playlist() { return playlist_; }
  const LivePlaylist& playlist() const { return playlist_; }
  /// The LL-HLS window (fMP4 parts), fed by the same session.
  LowLatencyPlaylist& low_latency() { return low_latency_; }
  const LowLatencyPlaylist& low_latency() const { return low_latency_; }

  /// One publisher at a time: the SRT listener claims the slot before accepting.
  bool claim_publisher();
  /// The session ended. Marks the next segment as a discontinuity and wakes wait_until_idle().
  void release_publisher();
  bool has_publisher() const { return publishing_.load(); }
  /// Waits (bounded) until no session is running, so its last segment is on disk.
  bool wait_until_idle(std::chrono::milliseconds timeout);

  /// Stopped: the running session (if any) ends at its next read, and no new one is accepted.
  void close();
  bool closed() const { return closed_.load(); }

  /// Numbers, stores (memory + `dir`) and lists a finished segment, and finishes the LL-HLS
  /// segment of the same media under the same number. Called by the session thread.
  void add_segment(CutSegment segment, WallClock::time_point closing_frame_arrival);
  std::size_t files_written() const { return files_written_.load(); }

  /// Viewers tracked at most per channel: past it the count saturates, so a flood of made-up
  /// viewers costs bounded memory.
  static constexpr std::size_t kMaxTrackedViewers = 100000;
  /// A viewer fetched the playlist; `key` tells viewers apart (the client address: anything a
  /// client chooses, like its User-Agent, would let it count itself many times).
  void saw_viewer(const std::string& key);
  /// Distinct viewers seen within the last two target durations; forgets the older ones, so
  /// calling it on a timer keeps the map small while nobody reads the count.
  int viewer_count() const;

  void set_stats(const IngestStats& stats);
  IngestStats stats() const;
  /// When the current publisher connected (nullopt when none).
  std::optional<WallClock::time_point> publisher_since() const;

 private:
  const std::string stream_id_;
  const std::string passphrase_;
  const std::filesystem::path dir_;
  const LiveOptions options_;
  LivePlaylist playlist_;
  LowLatencyPlaylist low_latency_;
  std::atomic<bool> publishing_{false};
  std::atomic<bool> closed_{false};
  std::atomic<std::size_t> files_written_{0};
  mutable std::mutex mutex_;
  std::condition_variable idle_;
  std::optional<WallClock::time_point> publisher_since_;
  IngestStats stats_;
  mutable std::unordered_map<std::string, std::chrono::steady_clock::time_point> viewers_;
  std::chrono::steady_clock::time_point last_viewer_prune_{};  // when a full map was last pruned
};

/// Why the listener turned a publisher away; each has its own SRT reject code.
enum class Refusal { malformed_stream_id, not_publish_mode, unknown_stream, not_started, busy, throttled };

/// The table the SRT listen callback reads: started streams by id, plus the ids of streams that
/// exist but were not started (so "not started" and "unknown" can be told apart without I/O).
class LiveChannels {
 public:
  /// Opens (or replaces) the channel unless `capacity` other channels are open: the check and
  /// the insert are one step, so concurrent starts cannot overshoot a server's limit.
  bool open(std::shared_ptr<LiveChannel> channel, std::size_t capacity);
  /// Removes and closes the channel; returns it so the caller can wait for its session to end.
  std::shared_ptr<LiveChannel> close(const std::string& stream_id);
  std::shared_ptr<LiveChannel> find(const std::string& stream_id) const;
  std::vector<std::shared_ptr<LiveChannel>> all() const;

  void add_created(const std::string& stream_id);
  void remove_created(const std::string& stream_id);
  bool is_created(const std::string& stream_id) const;

 private:
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<LiveChannel>> open_;
  std::unordered_set<std::string> created_;
};

/// The highest segment number already in `dir` plus one (0 for none): a stream resumed after a
/// server restart continues its numbering instead of overwriting its recording's segments.
std::uint64_t next_segment_number(const std::filesystem::path& dir);

}  // namespace reelhub::media
