#include "reelhub/media/bitrate_window.hpp"

#include <algorithm>

namespace reelhub::media {

BitrateWindow::BitrateWindow(std::chrono::milliseconds window, std::size_t bins, Clock::time_point start)
    : window_(window),
      bin_width_(std::chrono::duration_cast<Clock::duration>(window) / static_cast<std::int64_t>(std::max<std::size_t>(bins, 1))),
      start_(start),
      bins_(std::max<std::size_t>(bins, 1), 0) {}

double BitrateWindow::add(std::size_t bytes, Clock::time_point now) {
  const auto n = static_cast<std::int64_t>(bins_.size());
  const std::int64_t bin = std::max<std::int64_t>((now - start_) / bin_width_, current_);
  if (bin - current_ >= n) {  // silent for a whole window
    std::fill(bins_.begin(), bins_.end(), 0);
    total_ = 0;
    current_ = bin;
  }
  while (current_ < bin) {  // each bin the window slides onto drops what it held a window ago
    std::uint64_t& slot = bins_[static_cast<std::size_t>(++current_ % n)];
    total_ -= slot;
    slot = 0;
  }
  bins_[static_cast<std::size_t>(current_ % n)] += bytes;
  total_ += bytes;
  return static_cast<double>(total_) * 8.0 / std::chrono::duration<double, std::milli>(window_).count();
}

}  // namespace reelhub::media
