#include "reelhub/media/recording.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <map>
#include <memory>
#include <system_error>

#include "reelhub/media/ffmpeg.hpp"
#include "reelhub/media/picture.hpp"

namespace reelhub::media {
namespace {

/// MPEG-TS's own clock: the timeline works in it, so TS timestamps convert without rounding.
constexpr AVRational kTimelineBase{1, 90000};
/// A jump larger than this between where a stream ended and where it goes on is a reconnect.
constexpr std::int64_t kJumpTolerance = 90000;  // 1 s
constexpr int kThumbnailQscale = 4;

/// Opens a file with one demuxer only: never let probing pick a playlist-like demuxer that
/// would open other files named inside a hostile one.
InputFormatPtr open_input(const std::filesystem::path& path, const char* format_name, std::string& why) {
  const AVInputFormat* format = av_find_input_format(format_name);
  if (format == nullptr) throw std::runtime_error(std::string("libavformat lacks the demuxer ") + format_name);
  AVFormatContext* raw = nullptr;
  if (int rc = avformat_open_input(&raw, path.c_str(), format, nullptr); rc < 0) {
    why = av_error_string(rc);
    return nullptr;  // avformat_open_input freed `raw`
  }
  return InputFormatPtr(raw);
}

int first_stream_of(const AVFormatContext& ctx, AVMediaType type) {
  for (unsigned i = 0; i < ctx.nb_streams; ++i)
    if (ctx.streams[i]->codecpar->codec_type == type) return static_cast<int>(i);
  return -1;
}

/// The MP4 being written and which of its streams holds what.
class Mp4Writer {
 public:
  /// Creates the output with the first video (and first audio, if any) stream of `first`.
  Mp4Writer(const std::filesystem::path& output, const AVFormatContext& first) {
    AVFormatContext* raw = nullptr;
    if (int rc = avformat_alloc_output_context2(&raw, nullptr, "mp4", output.c_str()); rc < 0) {
      throw MediaError("cannot create the MP4 muxer: " + av_error_string(rc));
    }
    out_.reset(raw);
    for (AVMediaType type : {AVMEDIA_TYPE_VIDEO, AVMEDIA_TYPE_AUDIO}) {
      const int index = first_stream_of(first, type);
      if (index < 0) continue;
      const AVCodecParameters* par = first.streams[index]->codecpar;
      AVStream* stream = avformat_new_stream(out_.get(), nullptr);
      if (stream == nullptr) throw std::bad_alloc();
      if (int rc = avcodec_parameters_copy(stream->codecpar, par); rc < 0) throw std::bad_alloc();
      // The TS tag means nothing in MP4. HEVC as hvc1 (parameter sets in the header) is the form
      // Apple players accept; the muxer's default hev1 they refuse.
      stream->codecpar->codec_tag = par->codec_id == AV_CODEC_ID_HEVC ? MKTAG('h', 'v', 'c', '1') : 0;
      stream->time_base = first.streams[index]->time_base;
      kinds_.push_back({type, par->codec_id});
    }
    if (int rc = avio_open(&out_->pb, output.c_str(), AVIO_FLAG_WRITE); rc < 0) {
      throw MediaError("cannot write " + output.string() + ": " + av_error_string(rc));
    }
    AVDictionary* options = nullptr;
    // The moov atom in front lets a player start before it has the whole file (and seek
    // with Range requests); the muxer moves it there in a second pass over the file.
    av_dict_set(&options, "movflags", "+faststart", 0);
    const int rc = avformat_write_header(out_.get(), &options);
    DictionaryPtr unused(options);
    if (rc < 0) throw MediaError("cannot start the MP4: " + av_error_string(rc));
  }

  /// For each input stream of `in`: the output stream it feeds, or -1. Empty when `in` has no
  /// stream for the output's video (a publisher who came back with another codec).
  std::vector<int> map_streams(const AVFormatContext& in) const {
    std::vector<int> map(in.nb_streams, -1);
    for (std::size_t o = 0; o < kinds_.size(); ++o) {
      for (unsigned i = 0; i < in.nb_streams; ++i) {
        const AVCodecParameters* par = in.streams[i]->codecpar;
        if (map[i] < 0 && par->codec_type == kinds_[o].type && par->codec_id == kinds_[o].codec) {
          map[i] = static_cast<int>(o);
          break;
        }
      }
    }
    const bool has_video = std::find(map.begin(), map.end(), 0) != map.end();  // stream 0 is the video
    return has_video ? map : std::vector<int>{};
  }

  bool is_video(int output_stream) const { return kinds_[static_cast<std::size_t>(output_stream)].type == AVMEDIA_TYPE_VIDEO; }

  void write(AVPacket& packet, int output_stream) {
    av_packet_rescale_ts(&packet, kTimelineBase, out_->streams[output_stream]->time_base);
    packet.stream_index = output_stream;
    packet.pos = -1;
    if (int rc = av_interleaved_write_frame(out_.get(), &packet); rc < 0) {
      throw MediaError("cannot write the MP4: " + av_error_string(rc));
    }
  }

  void finish() {
    if (int rc = av_write_trailer(out_.get()); rc < 0) throw MediaError("cannot finish the MP4: " + av_error_string(rc));
    out_.reset();  // closes the file
  }

 private:
  struct Kind {
    AVMediaType type;
    AVCodecID codec;
  };
  OutputFormatPtr out_;
  std::vector<Kind> kinds_;  // per output stream; the video first
};

/// Copies the packets of one opened segment into the MP4. Returns false when the segment ended
/// in a read error (truncated, corrupt): what came before it is kept.
bool copy_segment(AVFormatContext& in, const std::vector<int>& map, Mp4Writer& writer, Timeline& timeline,
                  const std::function<bool()>& cancelled) {
  PacketPtr packet = make_packet();
  for (;;) {
    if (cancelled()) throw Cancelled();
    const int rc = av_read_frame(&in, packet.get());
    if (rc == AVERROR_EOF) return true;
    if (rc < 0) return false;
    // A stream announced mid-segment (a new PMT) is past the end of the map: not recorded.
    const auto index = static_cast<std::size_t>(packet->stream_index);
    const int out = index < map.size() ? map[index] : -1;
    const bool usable = out >= 0 && !(packet->flags & AV_PKT_FLAG_CORRUPT) &&
                        (packet->dts != AV_NOPTS_VALUE || packet->pts != AV_NOPTS_VALUE);
    if (!usable) {
      av_packet_unref(packet.get());
      continue;
    }
    av_packet_rescale_ts(packet.get(), in.streams[packet->stream_index]->time_base, kTimelineBase);
    if (packet->dts == AV_NOPTS_VALUE) packet->dts = packet->pts;
    const auto placed = timeline.place(static_cast<std::size_t>(out), packet->dts, packet->duration,
                                       writer.is_video(out) ? Timeline::Overlap::squeeze : Timeline::Overlap::drop);
    if (!placed) {
      av_packet_unref(packet.get());
      continue;
    }
    const std::int64_t dts = *placed;
    const std::int64_t shift = dts - packet->dts;
    packet->dts = dts;
    // A dts pushed up to keep the stream increasing may pass its pts; a frame is never shown
    // before it is decoded.
    packet->pts = packet->pts == AV_NOPTS_VALUE ? dts : std::max(packet->pts + shift, dts);
    writer.write(*packet, out);  // takes the packet's data
  }
}

/// Decodes the first picture of `stream` from the current read position.
FramePtr decode_first_picture(AVFormatContext& in, int stream) {
  const AVCodecParameters* par = in.streams[stream]->codecpar;
  const AVCodec* codec = avcodec_find_decoder(par->codec_id);
  if (codec == nullptr) throw MediaError(std::string("no decoder for ") + avcodec_get_name(par->codec_id));
  CodecContextPtr decoder = make_codec_context(codec);
  if (int rc = avcodec_parameters_to_context(decoder.get(), par); rc < 0) throw std::bad_alloc();
  decoder->thread_count = 1;  // frame threads would hold the picture back by a few packets
  if (int rc = avcodec_open2(decoder.get(), codec, nullptr); rc < 0) {
    throw MediaError("cannot open the video decoder: " + av_error_string(rc));
  }
  PacketPtr packet = make_packet();
  FramePtr frame = make_frame();
  bool draining = false;
  for (;;) {
    if (!draining) {
      const int rc = av_read_frame(&in, packet.get());
      if (rc < 0) {
        draining = true;
        avcodec_send_packet(decoder.get(), nullptr);
      } else {
        if (packet->stream_index == stream) avcodec_send_packet(decoder.get(), packet.get());
        av_packet_unref(packet.get());
      }
    }
    const int rc = avcodec_receive_frame(decoder.get(), frame.get());
    if (rc == 0) return frame;
    if (rc != AVERROR(EAGAIN) || draining) throw MediaError("no picture decodes: " + av_error_string(rc));
  }
}

int even(double value) { return std::max(2, static_cast<int>(value / 2) * 2); }

}  // namespace

std::vector<std::filesystem::path> ordered_segments(const std::filesystem::path& dir) {
  std::map<std::int64_t, std::filesystem::path> by_number;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (!entry.is_regular_file(ec)) continue;
    if (const auto n = segment_number(entry.path().filename().string())) by_number.emplace(*n, entry.path());
  }
  std::vector<std::filesystem::path> out;
  out.reserve(by_number.size());
  for (auto& [n, path] : by_number) out.push_back(std::move(path));
  return out;
}

std::optional<std::int64_t> Timeline::place(std::size_t stream, std::int64_t dts, std::int64_t duration,
                                            Overlap overlap) {
  if (tracks_.size() <= stream) tracks_.resize(stream + 1);
  Track& track = tracks_[stream];
  // Where this stream should go on: its own end, or for a stream's first packet the output's.
  const std::int64_t expected = track.started ? track.end : end_;
  bool rebased = false;
  if (!offset_) {
    offset_ = -dts;
  } else if (std::abs(dts + *offset_ - expected) > tolerance_) {
    offset_ = expected - dts;
    rebased = true;
  }
  std::int64_t out = dts + *offset_;
  if (track.started) {
    if (out <= track.last_dts) {
      if (overlap == Overlap::drop) return std::nullopt;
      out = track.last_dts + 1;
    } else if (!rebased) {
      track.step = out - track.last_dts;
    }
  }
  track.started = true;
  track.last_dts = out;
  track.end = out + (duration > 0 ? duration : track.step);
  end_ = std::max(end_, track.end);
  return out;
}

RemuxResult remux_segments_to_mp4(const std::vector<std::filesystem::path>& segments,
                                  const std::filesystem::path& output, const std::function<bool()>& cancelled) {
  RemuxResult result;
  std::unique_ptr<Mp4Writer> writer;  // created by the first segment with video
  Timeline timeline(kJumpTolerance);
  std::string first_problem;  // why the first skipped segment was skipped: the reason if all are
  auto skip = [&](const std::filesystem::path& path, const std::string& why) {
    spdlog::warn("recording: skipping {}: {}", path.string(), why);
    if (first_problem.empty()) first_problem = path.filename().string() + ": " + why;
    ++result.segments_skipped;
  };
  for (const auto& path : segments) {
    if (cancelled()) throw Cancelled();
    std::string why;
    InputFormatPtr in = open_input(path, "mpegts", why);
    if (!in) {
      skip(path, "cannot open: " + why);
      continue;
    }
    if (!writer) {
      // The first segment decides the output's streams, so it needs full codec parameters
      // (sizes, H.264/HEVC parameter sets); later ones only need their codecs, known from the PMT.
      if (int rc = avformat_find_stream_info(in.get(), nullptr); rc < 0) {
        skip(path, "unreadable: " + av_error_string(rc));
        continue;
      }
      if (first_stream_of(*in, AVMEDIA_TYPE_VIDEO) < 0) {
        skip(path, "no video stream");
        continue;
      }
      writer = std::make_unique<Mp4Writer>(output, *in);
      if (in->start_time != AV_NOPTS_VALUE) {
        timeline.start_at(av_rescale_q(in->start_time, AV_TIME_BASE_Q, kTimelineBase));
      }
    }
    const auto map = writer->map_streams(*in);
    if (map.empty()) {
      skip(path, "no video stream of the recording's codec");
      continue;
    }
    if (!copy_segment(*in, map, *writer, timeline, cancelled)) {
      spdlog::warn("recording: {} ends early (truncated?), keeping what was read", path.string());
    }
    ++result.segments_used;
  }
  if (!writer) {
    throw MediaError(segments.empty() ? std::string("no live segments found")
                                      : "no playable segment among " + std::to_string(segments.size()) + " (" +
                                            first_problem + ")");
  }
  writer->finish();
  result.duration_seconds = static_cast<double>(timeline.end()) * av_q2d(kTimelineBase);
  return result;
}

std::string thumbnail_from_keyframe(const std::filesystem::path& video, double at_seconds, int max_width) {
  std::string why;
  InputFormatPtr in = open_input(video, "mp4", why);
  if (!in) throw MediaError("cannot open " + video.string() + ": " + why);
  if (int rc = avformat_find_stream_info(in.get(), nullptr); rc < 0) {
    throw MediaError("unreadable video: " + av_error_string(rc));
  }
  const int stream = av_find_best_stream(in.get(), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  if (stream < 0) throw MediaError("no video stream");
  const AVRational base = in->streams[stream]->time_base;
  const auto target = static_cast<std::int64_t>(at_seconds / av_q2d(base));
  // BACKWARD lands on the keyframe at or before the target: its picture decodes on its own.
  if (int rc = av_seek_frame(in.get(), stream, target, AVSEEK_FLAG_BACKWARD); rc < 0) {
    spdlog::debug("recording: thumbnail seek failed ({}), using the first picture", av_error_string(rc));
  }
  FramePtr picture = decode_first_picture(*in, stream);
  const int width = even(std::min(max_width, picture->width));
  const int height = even(static_cast<double>(picture->height) * width / picture->width);
  FramePtr jpeg = allocate_picture(AV_PIX_FMT_YUVJ420P, width, height);
  if (!convert_picture(*picture, *jpeg, SWS_BICUBIC | SWS_ACCURATE_RND)) {
    throw MediaError("cannot convert the picture for JPEG");
  }
  return encode_jpeg(*jpeg, kThumbnailQscale);
}

}  // namespace reelhub::media
