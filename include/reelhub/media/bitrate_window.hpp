#pragma once
// The rate a publisher sends at, averaged over a sliding window: what a per-stream bitrate limit
// compares. Pure (time is passed in), so it is unit-tested without a socket.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace reelhub::media {

/// Bytes counted in `bins` equal time bins covering `window`; the oldest bin is emptied as time
/// moves past it. The average is always taken over the whole window, also before a session is
/// that old: a start-up burst (probing, the first keyframe) is spread over the window.
class BitrateWindow {
 public:
  using Clock = std::chrono::steady_clock;

  BitrateWindow(std::chrono::milliseconds window, std::size_t bins, Clock::time_point start);

  /// Counts `bytes` received at `now` (never earlier than the previous call's `now`) and returns
  /// the average over the window ending at `now`, in kbit/s.
  double add(std::size_t bytes, Clock::time_point now);

  std::chrono::milliseconds window() const { return window_; }

 private:
  const std::chrono::milliseconds window_;
  const Clock::duration bin_width_;
  const Clock::time_point start_;
  std::vector<std::uint64_t> bins_;
  std::int64_t current_ = 0;  // index (since start_) of the newest bin
  std::uint64_t total_ = 0;   // sum of bins_
};

}  // namespace reelhub::media
