#include "reelhub/media/live_segmenter.hpp"

extern "C" {
#include <libavutil/opt.h>
}

#include <spdlog/spdlog.h>

#include <algorithm>
#include <stdexcept>

namespace reelhub::media {
namespace {

/// A publisher that never sends a keyframe would grow one segment without bound.
constexpr int kMaxSegmentTargets = 10;

/// An upper bound of what writing a packet of `payload` bytes adds to the open segment: 184
/// payload bytes per 188-byte TS packet, plus this slack for the PES header, the last packet's
/// stuffing, the PAT/PMT a segment starts with, and audio the muxer still gathers into one PES
/// (pes_payload_size, 2930 bytes): with it, no segment ever passes the byte limit.
constexpr std::size_t kFramingSlack = 24 * 188;
std::size_t ts_bytes_bound(std::size_t payload) { return payload + payload / 46 + kFramingSlack; }

std::int64_t timestamp_of(const AVPacket& p) { return p.pts != AV_NOPTS_VALUE ? p.pts : p.dts; }

}  // namespace

LiveSegmenter::LiveSegmenter(const AVFormatContext& input, int video_index, int audio_index,
                             std::chrono::milliseconds target_duration, std::size_t max_segment_bytes,
                             WallClock::time_point first_data, SegmentReady on_segment,
                             std::optional<PartOutput> parts)
    : target_(target_duration),
      max_bytes_(max_segment_bytes),
      on_segment_(std::move(on_segment)),
      input_video_(video_index),
      clock_input_(video_index >= 0 ? video_index : audio_index),
      output_index_(input.nb_streams, -1),
      input_time_base_(input.nb_streams, AVRational{1, 90000}),
      anchor_wall_(first_data),
      parts_(std::move(parts)) {
  if (clock_input_ < 0) throw std::runtime_error("no audio or video stream to segment");
  clock_time_base_ = input.streams[clock_input_]->time_base;

  MemoryMuxer memory = make_memory_muxer("mpegts", this, &LiveSegmenter::on_write);
  muxer_ = std::move(memory.muxer);
  io_ = std::move(memory.io);

  for (const int index : {video_index, audio_index}) {
    if (index < 0) continue;
    AVStream* out = avformat_new_stream(muxer_.get(), nullptr);
    if (out == nullptr) throw std::bad_alloc();
    if (const int err = avcodec_parameters_copy(out->codecpar, input.streams[index]->codecpar); err < 0)
      throw av_failure("copy codec parameters", err);
    out->codecpar->codec_tag = 0;
    out->time_base = input.streams[index]->time_base;
    output_index_[static_cast<std::size_t>(index)] = out->index;
    input_time_base_[static_cast<std::size_t>(index)] = input.streams[index]->time_base;
  }
  if (const int err = avformat_write_header(muxer_.get(), nullptr); err < 0) throw av_failure("mpegts header", err);
  // Whatever the header wrote is dropped: every segment, the first included, re-emits PAT/PMT.
  avio_flush(io_.get());
  open_.clear();
  open_offset_ = avio_tell(io_.get());
  av_opt_set(muxer_->priv_data, "mpegts_flags", "+resend_headers", 0);
  if (parts_) {
    try {
      fragmenter_ = std::make_unique<Fmp4Fragmenter>(input, video_index, audio_index);
    } catch (const std::runtime_error& e) {
      stop_parts(e);
    }
  }
}

LiveSegmenter::~LiveSegmenter() = default;

int LiveSegmenter::on_write(void* opaque, std::uint8_t* buf, int size) {
  static_cast<LiveSegmenter*>(opaque)->open_.append(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(size));
  return size;
}

std::size_t LiveSegmenter::open_bytes() const {
  return static_cast<std::size_t>(avio_tell(io_.get()) - open_offset_);
}

double LiveSegmenter::seconds(std::int64_t pts_delta) const {
  return static_cast<double>(pts_delta) * av_q2d(clock_time_base_);
}

void LiveSegmenter::write(AVPacket& packet, WallClock::time_point arrival) {
  const int in = packet.stream_index;
  if (in < 0 || static_cast<std::size_t>(in) >= output_index_.size() || output_index_[static_cast<std::size_t>(in)] < 0)
    return;
  const std::int64_t ts = timestamp_of(packet);
  if (ts == AV_NOPTS_VALUE) return;  // nothing to place it by
  bool key = false;
  if (!anchored_) {  // the first packet of any stream is what arrived at first_data
    anchored_ = true;
    anchor_pts_ = av_rescale_q(ts, input_time_base_[static_cast<std::size_t>(in)], clock_time_base_);
  }

  if (in == clock_input_) {
    key = in != input_video_ || (packet.flags & AV_PKT_FLAG_KEY) != 0;
    if (!started_) {
      if (!key) return;  // every segment starts on a keyframe, the first one too
      started_ = true;
      segment_start_ = ts;
      segment_arrival_ = program_date(ts, arrival);
    } else if (key && (seconds(ts - segment_start_) >= std::chrono::duration<double>(target_).count() ||
                       open_bytes() >= max_bytes_ / 2)) {
      end_part(packet.dts != AV_NOPTS_VALUE ? packet.dts : ts);
      cut(ts);
      segment_start_ = ts;
      segment_arrival_ = program_date(ts, arrival);
    } else if (seconds(ts - segment_start_) > kMaxSegmentTargets * std::chrono::duration<double>(target_).count()) {
      throw std::runtime_error("no keyframe for " + std::to_string(static_cast<int>(seconds(ts - segment_start_))) +
                               " s; set the encoder's keyframe interval to the segment duration");
    }
    last_clock_end_ = ts + packet.duration;
    last_clock_dts_end_ = (packet.dts != AV_NOPTS_VALUE ? packet.dts : ts) + packet.duration;
  } else if (!started_) {
    return;  // audio before the first video keyframe would start the segment without a picture
  }

  // Checked before the packet changes anything, so the open segment stays whole for finish().
  if (open_bytes() + ts_bytes_bound(static_cast<std::size_t>(packet.size)) > max_bytes_) {
    throw SegmentLimitExceeded("segment limit: " + std::to_string(open_bytes()) + " bytes since the last cut, " +
                               "the limit is " + std::to_string(max_bytes_) +
                               " (keyframes too far apart, or timestamps not advancing)");
  }

  // Before the MPEG-TS muxer, which rescales the packet in place.
  if (fragmenter_) write_part(packet, in == clock_input_, key);

  AVStream* out = muxer_->streams[output_index_[static_cast<std::size_t>(in)]];
  packet.stream_index = out->index;
  av_packet_rescale_ts(&packet, input_time_base_[static_cast<std::size_t>(in)], out->time_base);
  packet.pos = -1;
  if (const int err = av_write_frame(muxer_.get(), &packet); err < 0) throw av_failure("mpegts write", err);
}

void LiveSegmenter::write_part(const AVPacket& packet, bool clock, bool key) {
  try {
    // Parts are measured in decode order: presentation timestamps jump around with B-frames.
    const std::int64_t dts = packet.dts != AV_NOPTS_VALUE ? packet.dts : packet.pts;
    if (clock && !part_open_) {
      part_open_ = true;
      part_start_ = dts;
      part_independent_ = key;
    }
    fragmenter_->write(packet);
    if (!clock) return;  // audio joins the fragment of the next video frame
    Fmp4Fragmenter::Flushed flushed = fragmenter_->flush();
    if (!flushed.init.empty()) parts_->on_init(std::move(flushed.init));
    // Nothing until the init segment can be written (the first audio packet): the first part
    // grows meanwhile, and may so be longer than the part target once, at the stream's start.
    if (flushed.fragment.empty()) return;
    parts_->on_chunk(std::move(flushed.fragment), part_independent_);
    // Frames are assumed as long as this one: end the part when one more would overshoot.
    const std::int64_t frame = packet.duration > 0                     ? packet.duration
                               : previous_frame_dts_ != AV_NOPTS_VALUE ? dts - previous_frame_dts_
                                                                       : 0;
    previous_frame_dts_ = dts;
    const double target = std::chrono::duration<double>(parts_->part_target).count();
    if (frame > 0 && seconds(dts + 2 * frame - part_start_) > target + 1e-6) end_part(dts + frame);
  } catch (const std::runtime_error& e) {
    stop_parts(e);
  }
}

void LiveSegmenter::end_part(std::int64_t end) {
  if (!part_open_) return;
  part_open_ = false;
  if (fragmenter_) parts_->on_part(seconds(end - part_start_));
}

void LiveSegmenter::stop_parts(const std::exception& e) {
  spdlog::warn("live: LL-HLS output stopped, MPEG-TS continues: {}", e.what());
  fragmenter_.reset();
}

WallClock::time_point LiveSegmenter::program_date(std::int64_t ts, WallClock::time_point arrival) const {
  const auto offset = std::chrono::duration_cast<WallClock::duration>(std::chrono::duration<double>(seconds(ts - anchor_pts_)));
  return std::min(anchor_wall_ + offset, arrival);
}

void LiveSegmenter::cut(std::int64_t end_pts) {
  // Push out PES packets the muxer still holds, then everything buffered in the AVIOContext.
  av_write_frame(muxer_.get(), nullptr);
  avio_flush(io_.get());
  open_offset_ = avio_tell(io_.get());
  CutSegment segment{seconds(end_pts - segment_start_), segment_arrival_, std::move(open_)};
  open_.clear();
  // One-shot flag: the next packet is preceded by PAT/PMT, so each segment decodes on its own.
  av_opt_set(muxer_->priv_data, "mpegts_flags", "+resend_headers", 0);
  if (!segment.data.empty()) on_segment_(std::move(segment));
}

void LiveSegmenter::finish() {
  if (!started_) return;
  end_part(std::max(last_clock_dts_end_, part_start_));
  cut(last_clock_end_ > segment_start_ ? last_clock_end_ : segment_start_);
  started_ = false;
}

}  // namespace reelhub::media
