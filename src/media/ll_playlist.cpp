#include "reelhub/media/ll_playlist.hpp"

#include <algorithm>
#include <limits>
#include <cmath>
#include <cstdio>

#include "reelhub/core/time.hpp"

namespace reelhub::media {
namespace {

std::string decimal(double value, int digits) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", digits, value);
  return buf;
}

/// The text between `prefix` and `suffix` of `name`, when it has both.
std::optional<std::string_view> between(std::string_view name, std::string_view prefix, std::string_view suffix) {
  if (name.size() <= prefix.size() + suffix.size() || !name.starts_with(prefix) || !name.ends_with(suffix))
    return std::nullopt;
  return name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
}

void render_parts(std::string& out, std::uint64_t sequence, const std::vector<LowLatencyPart>& parts) {
  for (std::size_t i = 0; i < parts.size(); ++i) {
    out += "#EXT-X-PART:DURATION=";
    out += decimal(parts[i].duration_seconds, 3);
    out += ",URI=\"";
    out += part_file_name(sequence, i);
    out += '"';
    if (parts[i].independent) out += ",INDEPENDENT=YES";
    out += '\n';
  }
}

void render_map(std::string& out, std::uint32_t init) {
  out += "#EXT-X-MAP:URI=\"";
  out += init_file_name(init);
  out += "\"\n";
}

double sum_durations(const std::vector<LowLatencyPart>& parts) {
  double total = 0;
  for (const LowLatencyPart& p : parts) total += p.duration_seconds;
  return total;
}

std::size_t data_bytes(const LowLatencySegment& s) {
  std::size_t n = s.data ? s.data->size() : 0;
  for (const LowLatencyPart& p : s.parts) n += p.data ? p.data->size() : 0;
  return n;
}

}  // namespace

double skip_boundary_seconds(int target_duration) { return 6.0 * target_duration; }

std::size_t skippable_segments(const LowLatencyView& view) {
  // A segment may be skipped when all of it lies more than the skip boundary before the end.
  double after = sum_durations(view.open_parts);
  std::vector<double> end_to_last(view.segments.size());
  for (std::size_t i = view.segments.size(); i-- > 0;) {
    end_to_last[i] = after;
    after += view.segments[i].duration_seconds;
  }
  const double boundary = skip_boundary_seconds(view.target_duration);
  std::size_t n = 0;
  while (n < view.segments.size() && end_to_last[n] >= boundary) ++n;
  return n;
}

std::string render_low_latency_playlist(const LowLatencyView& view) {
  std::string out =
      "#EXTM3U\n"
      "#EXT-X-VERSION:9\n"
      "#EXT-X-INDEPENDENT-SEGMENTS\n"
      "#EXT-X-TARGETDURATION:";
  out += std::to_string(view.target_duration);
  // PART-HOLD-BACK: three part targets, the spec's recommendation (it must be at least two).
  out += "\n#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=";
  out += decimal(skip_boundary_seconds(view.target_duration), 1);
  out += ",PART-HOLD-BACK=";
  out += decimal(3 * view.part_target_seconds, 3);
  out += "\n#EXT-X-PART-INF:PART-TARGET=";
  out += decimal(view.part_target_seconds, 3);
  out += "\n#EXT-X-MEDIA-SEQUENCE:";
  out += std::to_string(view.segments.empty() ? view.next_sequence : view.segments.front().sequence);
  out += '\n';
  // Before EXT-X-SKIP: players count skipped segments as segments, and this tag must precede them.
  if (view.discontinuity_sequence > 0) {
    out += "#EXT-X-DISCONTINUITY-SEQUENCE:";
    out += std::to_string(view.discontinuity_sequence);
    out += '\n';
  }
  const std::size_t skipped = std::min(view.skipped, view.segments.size());
  if (skipped > 0) {
    out += "#EXT-X-SKIP:SKIPPED-SEGMENTS=";
    out += std::to_string(skipped);
    out += '\n';
  }

  // Parts are listed for the segments that start within kPartsHorizonTargets of the end.
  const double horizon = kPartsHorizonTargets * static_cast<double>(view.target_duration);
  std::size_t first_with_parts = view.segments.size();
  for (double from_end = sum_durations(view.open_parts); first_with_parts > 0;) {
    from_end += view.segments[first_with_parts - 1].duration_seconds;
    if (from_end > horizon) break;
    --first_with_parts;
  }

  std::optional<std::uint32_t> map;
  for (std::size_t i = skipped; i < view.segments.size(); ++i) {
    const LowLatencySegment& s = view.segments[i];
    if (s.discontinuity) out += "#EXT-X-DISCONTINUITY\n";
    if (map != s.init) render_map(out, s.init);
    map = s.init;
    out += "#EXT-X-PROGRAM-DATE-TIME:";
    out += iso8601_millis(s.program_date_time);
    out += '\n';
    if (i >= first_with_parts) render_parts(out, s.sequence, s.parts);
    out += "#EXTINF:";
    out += decimal(s.duration_seconds, 3);
    out += ",\n";
    out += fmp4_segment_file_name(s.sequence);
    out += '\n';
  }
  if (!view.open_parts.empty()) {
    if (view.open_discontinuity) out += "#EXT-X-DISCONTINUITY\n";
    if (map != view.open_init) render_map(out, view.open_init);
    render_parts(out, view.next_sequence, view.open_parts);
  }
  if (view.ended) {
    out += "#EXT-X-ENDLIST\n";
  } else {
    out += "#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"";
    out += view.hint_next_segment ? part_file_name(view.next_sequence + 1, 0)
                                  : part_file_name(view.next_sequence, view.open_parts.size());
    out += "\"\n";
  }
  return out;
}

std::variant<ReloadRequest, ReloadRequestError> parse_reload_request(const std::optional<std::string>& msn,
                                                                     const std::optional<std::string>& part,
                                                                     const std::optional<std::string>& skip) {
  ReloadRequest request;
  if (msn) {
    request.msn = parse_unsigned(*msn);
    if (!request.msn) return ReloadRequestError{"_HLS_msn must be a media sequence number (a decimal integer)"};
  }
  if (part) {
    if (!msn) return ReloadRequestError{"_HLS_part needs _HLS_msn"};
    request.part = parse_unsigned(*part);
    if (!request.part) return ReloadRequestError{"_HLS_part must be a part index (a decimal integer)"};
  }
  if (skip) {
    if (*skip != "YES" && *skip != "v2") return ReloadRequestError{"_HLS_skip must be YES or v2"};
    request.skip = true;
  }
  return request;
}

std::string part_file_name(std::uint64_t sequence, std::size_t index) {
  std::string name = "part_";
  name += std::to_string(sequence);
  name += '_';
  name += std::to_string(index);
  name += ".m4s";
  return name;
}

std::string fmp4_segment_file_name(std::uint64_t sequence) {
  std::string name = "segment_";
  name += std::to_string(sequence);
  name += ".m4s";
  return name;
}

std::string init_file_name(std::uint32_t init) {
  std::string name = "init_";
  name += std::to_string(init);
  name += ".mp4";
  return name;
}

std::optional<LowLatencyName> parse_low_latency_name(std::string_view file_name) {
  if (const auto digits = between(file_name, "init_", ".mp4")) {
    const auto n = parse_unsigned(*digits);
    if (!n || *n > std::numeric_limits<std::uint32_t>::max()) return std::nullopt;
    return LowLatencyName{LowLatencyName::Kind::init, *n, 0};
  }
  if (const auto digits = between(file_name, "segment_", ".m4s")) {
    const auto n = parse_unsigned(*digits);
    if (!n) return std::nullopt;
    return LowLatencyName{LowLatencyName::Kind::segment, *n, 0};
  }
  if (const auto both = between(file_name, "part_", ".m4s")) {
    const auto sep = both->find('_');
    if (sep == std::string_view::npos) return std::nullopt;
    const auto n = parse_unsigned(both->substr(0, sep));
    const auto i = parse_unsigned(both->substr(sep + 1));
    if (!n || !i) return std::nullopt;
    return LowLatencyName{LowLatencyName::Kind::part, *n, *i};
  }
  return std::nullopt;
}

LowLatencyPlaylist::LowLatencyPlaylist(std::chrono::milliseconds target_duration, std::chrono::milliseconds part_target,
                                       std::size_t window, std::size_t max_bytes, std::uint64_t first_sequence)
    : target_(target_duration),
      part_target_(part_target),
      window_(window),
      max_bytes_(max_bytes),
      next_sequence_(first_sequence) {}

void LowLatencyPlaylist::set_init(std::string init) {
  std::lock_guard lock(mutex_);
  ++current_init_;
  inits_[current_init_] = std::make_shared<const std::string>(std::move(init));
}

void LowLatencyPlaylist::append_chunk(std::string_view bytes, bool part_starts_with_keyframe) {
  {
    std::lock_guard lock(mutex_);
    if (!part_open_) {
      part_open_ = true;
      open_part_independent_ = part_starts_with_keyframe;
      open_part_.clear();
    }
    open_part_.append(bytes);
  }
  byte_changes_->notify();
}

void LowLatencyPlaylist::end_part(double duration_seconds) {
  {
    std::lock_guard lock(mutex_);
    if (!part_open_) return;
    open_parts_.push_back({duration_seconds, open_part_independent_,
                           std::make_shared<const std::string>(std::move(open_part_))});
    open_part_.clear();
    part_open_ = false;
  }
  listing_changes_->notify();
  byte_changes_->notify();
}

void LowLatencyPlaylist::end_segment(std::uint64_t sequence, double duration_seconds,
                                     WallClock::time_point program_date_time) {
  {
    std::lock_guard lock(mutex_);
    if (open_parts_.empty()) return;  // nothing of it was written in fMP4
    LowLatencySegment segment;
    segment.sequence = sequence;
    segment.duration_seconds = duration_seconds;
    segment.program_date_time = program_date_time;
    segment.discontinuity = pending_discontinuity_;
    pending_discontinuity_ = false;
    segment.init = current_init_;
    std::string whole;
    for (const LowLatencyPart& p : open_parts_) whole += *p.data;
    segment.data = std::make_shared<const std::string>(std::move(whole));
    segment.parts = std::move(open_parts_);
    open_parts_.clear();
    bytes_ += data_bytes(segment);
    longest_ = std::max(longest_, duration_seconds);
    segments_.push_back(std::move(segment));
    next_sequence_ = sequence + 1;
    trim_locked();
  }
  listing_changes_->notify();
  byte_changes_->notify();
}

void LowLatencyPlaylist::trim_locked() {
  while (segments_.size() > window_ || (bytes_ > max_bytes_ && segments_.size() > 1)) {
    // A discontinuity leaving the window is counted, so players keep their timelines aligned.
    if (segments_.front().discontinuity) ++discontinuity_sequence_;
    bytes_ -= data_bytes(segments_.front());
    segments_.pop_front();
  }
  const std::uint32_t oldest_needed = segments_.empty() ? current_init_ : segments_.front().init;
  std::erase_if(inits_, [&](const auto& entry) { return entry.first < oldest_needed; });
}

void LowLatencyPlaylist::mark_discontinuity() {
  std::lock_guard lock(mutex_);
  pending_discontinuity_ = true;
  // A part left open by a session whose fMP4 output failed never ends: the next session's
  // bytes must not be appended to it.
  part_open_ = false;
  open_part_.clear();
}

void LowLatencyPlaylist::end() {
  {
    std::lock_guard lock(mutex_);
    ended_ = true;
  }
  listing_changes_->notify();
  byte_changes_->notify();
}

ReloadState LowLatencyPlaylist::reload_state(const ReloadRequest& request) const {
  std::lock_guard lock(mutex_);
  if (ended_ || !request.msn) return ReloadState::ready;
  const std::uint64_t msn = *request.msn;
  if (msn < next_sequence_) return ReloadState::ready;
  // The spec's limits: a segment more than two past the last one listed, or a part more than
  // the Advance Part Limit past the last part listed, is refused rather than waited for.
  if (msn > next_sequence_ + 1) return ReloadState::too_far;
  if (!request.part) return ReloadState::wait;
  const std::uint64_t part = *request.part;
  if (msn == next_sequence_) {
    if (part < open_parts_.size()) return ReloadState::ready;
    return part >= open_parts_.size() + kAdvancePartLimit ? ReloadState::too_far : ReloadState::wait;
  }
  return part >= kAdvancePartLimit ? ReloadState::too_far : ReloadState::wait;
}

LowLatencyView LowLatencyPlaylist::view_locked(bool skip) const {
  LowLatencyView view;
  view.segments = segments_;
  view.open_parts = open_parts_;
  view.next_sequence = next_sequence_;
  view.open_discontinuity = pending_discontinuity_;
  view.open_init = current_init_;
  view.discontinuity_sequence = discontinuity_sequence_;
  // Never below the configured target, never below a longer segment (long GOPs): the spec
  // requires every rounded EXTINF to be at most the target duration.
  const double target_s = std::chrono::duration<double>(target_).count();
  view.target_duration = static_cast<int>(std::ceil(std::max(target_s, longest_) - 1e-3));
  view.part_target_seconds = std::chrono::duration<double>(part_target_).count();
  view.ended = ended_;
  // A publisher whose keyframe interval is the segment target cuts the segment at the frame
  // after its last full part: hinting a part of the open segment then would name a part that
  // never comes.
  view.hint_next_segment = !part_open_ && sum_durations(open_parts_) >= target_s - 1e-3;
  if (skip) view.skipped = skippable_segments(view);
  return view;
}

std::optional<std::string> LowLatencyPlaylist::render(bool skip) const {
  LowLatencyView view;
  {
    std::lock_guard lock(mutex_);
    if (segments_.empty() && open_parts_.empty()) return std::nullopt;
    view = view_locked(skip);
  }
  return render_low_latency_playlist(view);
}

std::shared_ptr<const std::string> LowLatencyPlaylist::init(std::uint32_t number) const {
  std::lock_guard lock(mutex_);
  const auto it = inits_.find(number);
  return it == inits_.end() ? nullptr : it->second;
}

std::shared_ptr<const std::string> LowLatencyPlaylist::segment(std::uint64_t sequence) const {
  std::lock_guard lock(mutex_);
  for (const LowLatencySegment& s : segments_)
    if (s.sequence == sequence) return s.data;
  return nullptr;
}

std::shared_ptr<const std::string> LowLatencyPlaylist::part(std::uint64_t sequence, std::size_t index) const {
  std::lock_guard lock(mutex_);
  if (sequence == next_sequence_) return index < open_parts_.size() ? open_parts_[index].data : nullptr;
  for (const LowLatencySegment& s : segments_)
    if (s.sequence == sequence) return index < s.parts.size() ? s.parts[index].data : nullptr;
  return nullptr;
}

bool LowLatencyPlaylist::part_is_coming(std::uint64_t sequence, std::size_t index) const {
  std::lock_guard lock(mutex_);
  return !ended_ && ((sequence == next_sequence_ && index == open_parts_.size()) ||
                     (sequence == next_sequence_ + 1 && index == 0));
}

LowLatencyPlaylist::PartBytes LowLatencyPlaylist::part_bytes(std::uint64_t sequence, std::size_t index,
                                                             std::size_t offset) const {
  const auto from = [offset](const std::string& data) {
    return offset < data.size() ? data.substr(offset) : std::string();
  };
  std::lock_guard lock(mutex_);
  if (sequence == next_sequence_) {
    if (index < open_parts_.size()) return {from(*open_parts_[index].data), true, false};
    if (index == open_parts_.size() && part_open_) return {from(open_part_), false, false};
    return {{}, false, ended_};
  }
  for (const LowLatencySegment& s : segments_)
    if (s.sequence == sequence && index < s.parts.size()) return {from(*s.parts[index].data), true, false};
  // Its segment was cut before this part began, or it left the window: it will never come.
  return {{}, false, sequence < next_sequence_ || ended_};
}

}  // namespace reelhub::media
