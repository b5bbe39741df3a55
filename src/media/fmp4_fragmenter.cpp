#include "reelhub/media/fmp4_fragmenter.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace reelhub::media {
namespace {

/// Where the first top-level `moof` box starts in `bytes` (its size), reading box headers only.
std::size_t first_moof(const std::string& bytes) {
  std::size_t at = 0;
  while (at + 8 <= bytes.size()) {
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data() + at);
    const std::size_t size = (std::size_t{p[0]} << 24) | (std::size_t{p[1]} << 16) | (std::size_t{p[2]} << 8) | p[3];
    if (std::memcmp(p + 4, "moof", 4) == 0 || size < 8) return at;
    at += size;
  }
  return bytes.size();
}

}  // namespace

Fmp4Fragmenter::Fmp4Fragmenter(const AVFormatContext& input, int video_index, int audio_index)
    : audio_input_(audio_index),
      output_index_(input.nb_streams, -1),
      input_time_base_(input.nb_streams, AVRational{1, 90000}),
      default_duration_(input.nb_streams, 0),
      scratch_(make_packet()) {
  MemoryMuxer memory = make_memory_muxer("mp4", this, &Fmp4Fragmenter::on_write);
  muxer_ = std::move(memory.muxer);
  io_ = std::move(memory.io);

  for (const int index : {video_index, audio_index}) {
    if (index < 0) continue;
    const AVStream* in = input.streams[index];
    AVStream* out = avformat_new_stream(muxer_.get(), nullptr);
    if (out == nullptr) throw std::bad_alloc();
    if (index == audio_index) {
      const AVBitStreamFilter* filter = av_bsf_get_by_name("aac_adtstoasc");
      AVBSFContext* bsf = nullptr;
      if (filter == nullptr) throw std::runtime_error("aac_adtstoasc is missing from libavcodec");
      if (const int err = av_bsf_alloc(filter, &bsf); err < 0) throw av_failure("aac_adtstoasc", err);
      adts_to_asc_.reset(bsf);
      if (const int err = avcodec_parameters_copy(bsf->par_in, in->codecpar); err < 0)
        throw av_failure("aac_adtstoasc parameters", err);
      bsf->time_base_in = in->time_base;
      if (const int err = av_bsf_init(bsf); err < 0) throw av_failure("aac_adtstoasc", err);
      if (const int err = avcodec_parameters_copy(out->codecpar, bsf->par_out); err < 0)
        throw av_failure("copy codec parameters", err);
      if (in->codecpar->sample_rate > 0)
        default_duration_[static_cast<std::size_t>(index)] =
            av_rescale_q(in->codecpar->frame_size > 0 ? in->codecpar->frame_size : 1024,
                         AVRational{1, in->codecpar->sample_rate}, in->time_base);
    } else {
      if (const int err = avcodec_parameters_copy(out->codecpar, in->codecpar); err < 0)
        throw av_failure("copy codec parameters", err);
      if (in->avg_frame_rate.num > 0 && in->avg_frame_rate.den > 0)
        default_duration_[static_cast<std::size_t>(index)] = av_rescale_q(1, av_inv_q(in->avg_frame_rate), in->time_base);
    }
    out->codecpar->codec_tag = 0;
    out->time_base = in->time_base;
    output_index_[static_cast<std::size_t>(index)] = out->index;
    input_time_base_[static_cast<std::size_t>(index)] = in->time_base;
  }
  seen_.assign(muxer_->nb_streams, false);
  AVDictionary* opts = nullptr;
  // frag_custom: a fragment ends only when we flush. empty_moov + delay_moov: the init segment
  // holds no samples and is written with the first fragment, once the audio configuration is
  // known. default_base_moof: each fragment's offsets count from its own moof, so any part can
  // be fetched and appended alone (CMAF).
  av_dict_set(&opts, "movflags", "frag_custom+empty_moov+delay_moov+default_base_moof", 0);
  const int err = avformat_write_header(muxer_.get(), &opts);
  av_dict_free(&opts);
  if (err < 0) throw av_failure("mp4 header", err);
}

Fmp4Fragmenter::~Fmp4Fragmenter() = default;

int Fmp4Fragmenter::on_write(void* opaque, std::uint8_t* buf, int size) {
  static_cast<Fmp4Fragmenter*>(opaque)->out_.append(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(size));
  return size;
}

void Fmp4Fragmenter::write(const AVPacket& packet) {
  const int in = packet.stream_index;
  if (in < 0 || static_cast<std::size_t>(in) >= output_index_.size() || output_index_[static_cast<std::size_t>(in)] < 0)
    return;
  av_packet_unref(scratch_.get());
  if (const int err = av_packet_ref(scratch_.get(), &packet); err < 0) throw av_failure("packet copy", err);
  AVPacket& copy = *scratch_;
  if (copy.dts == AV_NOPTS_VALUE) copy.dts = copy.pts;
  if (copy.pts == AV_NOPTS_VALUE) copy.pts = copy.dts;
  if (copy.dts == AV_NOPTS_VALUE) return;  // nothing to place it by
  // MP4 stores sample durations: the last sample of a fragment has only the packet's to go by.
  if (copy.duration <= 0) copy.duration = default_duration_[static_cast<std::size_t>(in)];
  if (in != audio_input_) {
    mux(copy, in);
    return;
  }
  if (const int err = av_bsf_send_packet(adts_to_asc_.get(), &copy); err < 0) throw av_failure("aac_adtstoasc", err);
  while (av_bsf_receive_packet(adts_to_asc_.get(), &copy) == 0) {
    mux(copy, in);
    av_packet_unref(&copy);
  }
}

void Fmp4Fragmenter::mux(AVPacket& packet, int input_index) {
  AVStream* out = muxer_->streams[output_index_[static_cast<std::size_t>(input_index)]];
  packet.stream_index = out->index;
  av_packet_rescale_ts(&packet, input_time_base_[static_cast<std::size_t>(input_index)], out->time_base);
  packet.pos = -1;
  if (const int err = av_write_frame(muxer_.get(), &packet); err < 0) throw av_failure("mp4 write", err);
  seen_[static_cast<std::size_t>(out->index)] = true;
}

Fmp4Fragmenter::Flushed Fmp4Fragmenter::flush() {
  Flushed flushed;
  if (!init_taken_ && std::find(seen_.begin(), seen_.end(), false) != seen_.end() && ++held_flushes_ < kMaxHeldFlushes)
    return flushed;
  if (const int err = av_write_frame(muxer_.get(), nullptr); err < 0) throw av_failure("mp4 fragment", err);
  avio_flush(io_.get());
  if (!init_taken_) {
    init_taken_ = true;
    // With delay_moov the first flush writes the moov, and the fragment with it or with the next.
    const std::size_t split = first_moof(out_);
    flushed.init = out_.substr(0, split);
    out_.erase(0, split);
    if (out_.empty()) {
      if (const int err = av_write_frame(muxer_.get(), nullptr); err < 0) throw av_failure("mp4 fragment", err);
      avio_flush(io_.get());
    }
  }
  flushed.fragment = std::move(out_);
  out_.clear();
  return flushed;
}

}  // namespace reelhub::media
