#include "reelhub/media/live_channel.hpp"

#include <algorithm>

#include "reelhub/core/files.hpp"

namespace reelhub::media {
namespace {

/// Segments kept in memory beyond the listed window, for players that fell a little behind.
constexpr std::size_t kExtraSegmentsInMemory = 4;
/// The LL-HLS playlist lists twice the MPEG-TS window: a delta update (_HLS_skip) may only leave
/// out what lies six target durations before the end, so a 6-segment window would skip nothing.
constexpr std::size_t kLowLatencyWindowFactor = 2;

}  // namespace

LiveChannel::LiveChannel(std::string stream_id, std::string passphrase, std::filesystem::path dir,
                         const LiveOptions& options)
    : stream_id_(std::move(stream_id)),
      passphrase_(std::move(passphrase)),
      dir_(std::move(dir)),
      options_(options),
      playlist_(options.target_duration, options.window, options.window + kExtraSegmentsInMemory,
                options.max_channel_bytes, next_segment_number(dir_)),
      low_latency_(options.target_duration, options.part_target, kLowLatencyWindowFactor * options.window,
                   options.max_channel_bytes, playlist_.next_sequence()) {
  // Segments already on disk come from an earlier publisher (before a server restart): whatever
  // is appended next does not continue their timeline.
  if (playlist_.next_sequence() > 0) {
    playlist_.mark_discontinuity();
    low_latency_.mark_discontinuity();
  }
}

bool LiveChannel::claim_publisher() {
  if (closed_) return false;
  bool expected = false;
  if (!publishing_.compare_exchange_strong(expected, true)) return false;
  std::lock_guard lock(mutex_);
  publisher_since_ = WallClock::now();
  stats_ = IngestStats{};
  return true;
}

void LiveChannel::release_publisher() {
  {
    std::lock_guard lock(mutex_);
    publisher_since_.reset();
    playlist_.mark_discontinuity();
    low_latency_.mark_discontinuity();
    publishing_ = false;
  }
  idle_.notify_all();
}

bool LiveChannel::wait_until_idle(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return idle_.wait_for(lock, timeout, [&] { return !publishing_.load(); });
}

void LiveChannel::close() {
  closed_ = true;
  playlist_.end();
  low_latency_.end();
}

void LiveChannel::add_segment(CutSegment cut, WallClock::time_point closing_frame_arrival) {
  LiveSegment segment;
  segment.sequence = playlist_.next_sequence();
  segment.duration_seconds = cut.duration_seconds;
  segment.program_date_time = cut.program_date_time;
  auto data = std::make_shared<const std::string>(std::move(cut.data));
  // On disk first: the recording is made from these files, and a segment a player can fetch
  // from memory must also survive the window sliding past it.
  write_file_atomically(dir_ / segment_file_name(segment.sequence), *data,
                        Durability::page_cache);
  ++files_written_;
  segment.data = std::move(data);
  const std::uint64_t sequence = segment.sequence;
  playlist_.append(std::move(segment));
  low_latency_.end_segment(sequence, cut.duration_seconds, cut.program_date_time);
  const double lag_ms =
      std::chrono::duration<double, std::milli>(WallClock::now() - closing_frame_arrival).count();
  std::lock_guard lock(mutex_);
  stats_.last_segment_lag_ms = lag_ms;
  stats_.last_segment_seconds = cut.duration_seconds;
}

void LiveChannel::saw_viewer(const std::string& key) {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  if (const auto it = viewers_.find(key); it != viewers_.end()) {
    it->second = now;
    return;
  }
  if (viewers_.size() >= kMaxTrackedViewers) {
    // Full: look for old entries at most once per target duration, so a flood of new viewers
    // does not scan the whole map on every request.
    if (now - last_viewer_prune_ < options_.target_duration) return;
    last_viewer_prune_ = now;
    const auto horizon = now - 2 * options_.target_duration;
    std::erase_if(viewers_, [&](const auto& v) { return v.second < horizon; });
    if (viewers_.size() >= kMaxTrackedViewers) return;
  }
  viewers_.emplace(key, now);
}

int LiveChannel::viewer_count() const {
  const auto horizon = std::chrono::steady_clock::now() - 2 * options_.target_duration;
  std::lock_guard lock(mutex_);
  std::erase_if(viewers_, [&](const auto& v) { return v.second < horizon; });
  return static_cast<int>(viewers_.size());
}

void LiveChannel::set_stats(const IngestStats& stats) {
  std::lock_guard lock(mutex_);
  const double lag = stats_.last_segment_lag_ms, seconds = stats_.last_segment_seconds;
  stats_ = stats;
  stats_.last_segment_lag_ms = lag;
  stats_.last_segment_seconds = seconds;
}

IngestStats LiveChannel::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

std::optional<WallClock::time_point> LiveChannel::publisher_since() const {
  std::lock_guard lock(mutex_);
  return publisher_since_;
}

bool LiveChannels::open(std::shared_ptr<LiveChannel> channel, std::size_t capacity) {
  std::unique_lock lock(mutex_);
  if (!open_.contains(channel->stream_id()) && open_.size() >= capacity) return false;
  created_.erase(channel->stream_id());
  open_[channel->stream_id()] = std::move(channel);
  return true;
}

std::shared_ptr<LiveChannel> LiveChannels::close(const std::string& stream_id) {
  std::shared_ptr<LiveChannel> channel;
  {
    std::unique_lock lock(mutex_);
    const auto it = open_.find(stream_id);
    if (it == open_.end()) return nullptr;
    channel = std::move(it->second);
    open_.erase(it);
  }
  channel->close();
  return channel;
}

std::shared_ptr<LiveChannel> LiveChannels::find(const std::string& stream_id) const {
  std::shared_lock lock(mutex_);
  const auto it = open_.find(stream_id);
  return it == open_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<LiveChannel>> LiveChannels::all() const {
  std::shared_lock lock(mutex_);
  std::vector<std::shared_ptr<LiveChannel>> out;
  out.reserve(open_.size());
  for (const auto& [id, channel] : open_) out.push_back(channel);
  return out;
}

void LiveChannels::add_created(const std::string& stream_id) {
  std::unique_lock lock(mutex_);
  created_.insert(stream_id);
}

void LiveChannels::remove_created(const std::string& stream_id) {
  std::unique_lock lock(mutex_);
  created_.erase(stream_id);
}

bool LiveChannels::is_created(const std::string& stream_id) const {
  std::shared_lock lock(mutex_);
  return created_.contains(stream_id);
}

std::uint64_t next_segment_number(const std::filesystem::path& dir) {
  std::error_code ec;
  std::uint64_t next = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (const auto n = segment_number(entry.path().filename().string()))
      next = std::max(next, static_cast<std::uint64_t>(*n) + 1);
  }
  return next;
}

}  // namespace reelhub::media
