#include "reelhub/media/live_playlist.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>

#include "reelhub/core/time.hpp"

namespace reelhub::media {

std::string render_playlist(const PlaylistView& view) {
  std::string out =
      "#EXTM3U\n"
      "#EXT-X-VERSION:6\n"
      "#EXT-X-INDEPENDENT-SEGMENTS\n";
  out += "#EXT-X-TARGETDURATION:";
  out += std::to_string(view.target_duration);
  out += "\n#EXT-X-MEDIA-SEQUENCE:";
  out += std::to_string(view.segments.empty() ? 0 : view.segments.front().sequence);
  out += "\n";
  if (view.discontinuity_sequence > 0) {
    out += "#EXT-X-DISCONTINUITY-SEQUENCE:";
    out += std::to_string(view.discontinuity_sequence);
    out += "\n";
  }
  for (const LiveSegment& s : view.segments) {
    if (s.discontinuity) out += "#EXT-X-DISCONTINUITY\n";
    out += "#EXT-X-PROGRAM-DATE-TIME:";
    out += iso8601_millis(s.program_date_time);
    char extinf[48];
    std::snprintf(extinf, sizeof extinf, "\n#EXTINF:%.3f,\n", s.duration_seconds);
    out += extinf;
    out += segment_file_name(s.sequence);
    out += '\n';
  }
  if (view.ended) out += "#EXT-X-ENDLIST\n";
  return out;
}

LivePlaylist::LivePlaylist(std::chrono::milliseconds target_duration, std::size_t window, std::size_t keep,
                           std::size_t max_bytes, std::uint64_t first_sequence)
    : target_(target_duration),
      window_(window),
      keep_(std::max(keep, window)),
      max_bytes_(max_bytes),
      next_sequence_(first_sequence) {}

std::uint64_t LivePlaylist::next_sequence() const {
  std::lock_guard lock(mutex_);
  return next_sequence_;
}

void LivePlaylist::mark_discontinuity() {
  std::lock_guard lock(mutex_);
  pending_discontinuity_ = true;
}

void LivePlaylist::append(LiveSegment segment) {
  std::lock_guard lock(mutex_);
  segment.discontinuity = segment.discontinuity || pending_discontinuity_;
  pending_discontinuity_ = false;
  next_sequence_ = segment.sequence + 1;
  longest_ = std::max(longest_, segment.duration_seconds);
  if (segment.data) bytes_in_memory_ += segment.data->size();
  kept_.push_back(std::move(segment));
  const auto release = [&](LiveSegment& s) {
    if (s.data) bytes_in_memory_ -= s.data->size();
    s.data.reset();
  };
  while (kept_.size() > keep_) {
    release(kept_.front());
    kept_.pop_front();
  }
  for (auto it = kept_.begin(); bytes_in_memory_ > max_bytes_ && it != kept_.end(); ++it) release(*it);
  // A discontinuity leaving the listed window is counted, so players keep their timelines aligned.
  if (kept_.size() > window_ && kept_[kept_.size() - window_ - 1].discontinuity) ++discontinuity_sequence_;
}

void LivePlaylist::end() {
  std::lock_guard lock(mutex_);
  ended_ = true;
}

std::optional<std::string> LivePlaylist::render() const {
  PlaylistView view;
  {
    std::lock_guard lock(mutex_);
    if (kept_.empty()) return std::nullopt;
    const std::size_t first = kept_.size() > window_ ? kept_.size() - window_ : 0;
    view.segments.assign(kept_.begin() + static_cast<std::ptrdiff_t>(first), kept_.end());
    view.discontinuity_sequence = discontinuity_sequence_;
    // Never below the configured target (players size buffers by it), and never below a segment
    // that was longer (a publisher with long GOPs): the spec requires the rounded EXTINF <= it.
    const double target_s = std::chrono::duration<double>(target_).count();
    view.target_duration = static_cast<int>(std::ceil(std::max(target_s, longest_) - 1e-3));
    view.ended = ended_;
  }
  return render_playlist(view);
}

std::shared_ptr<const std::string> LivePlaylist::segment(std::uint64_t sequence) const {
  std::lock_guard lock(mutex_);
  for (const LiveSegment& s : kept_)
    if (s.sequence == sequence) return s.data;
  return nullptr;
}

std::size_t LivePlaylist::segments_listed() const {
  std::lock_guard lock(mutex_);
  return std::min(kept_.size(), window_);
}

std::size_t LivePlaylist::bytes_in_memory() const {
  std::lock_guard lock(mutex_);
  return bytes_in_memory_;
}

std::optional<std::uint64_t> parse_unsigned(std::string_view digits) {
  if (digits.empty() || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  std::uint64_t n = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc{} || end != digits.data() + digits.size()) return std::nullopt;  // too large
  return n;
}

std::optional<std::int64_t> segment_number(std::string_view file_name) {
  constexpr std::string_view prefix = "segment_", suffix = ".ts";
  if (file_name.size() <= prefix.size() + suffix.size() || !file_name.starts_with(prefix) ||
      !file_name.ends_with(suffix)) {
    return std::nullopt;
  }
  const auto n = parse_unsigned(file_name.substr(prefix.size(), file_name.size() - prefix.size() - suffix.size()));
  if (!n || *n > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return std::nullopt;
  return static_cast<std::int64_t>(*n);
}

std::string segment_file_name(std::uint64_t n) {
  std::string name = "segment_";
  name += std::to_string(n);
  name += ".ts";
  return name;
}

std::filesystem::path live_dir(const std::filesystem::path& media_root, std::string_view stream_id) {
  return media_root / "live" / stream_id;
}

}  // namespace reelhub::media
