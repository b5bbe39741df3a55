#include "reelhub/media/transcode.hpp"

#include <spdlog/spdlog.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>
#include <tuple>

#include "reelhub/core/error.hpp"
#include "reelhub/media/ffmpeg.hpp"
#include "reelhub/media/picture.hpp"

extern "C" {
#include <libavfilter/buffersink.h>
#include <libavfilter/buffersrc.h>
#include <libavutil/channel_layout.h>
#include <libavutil/display.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
}

namespace reelhub::media {
namespace {

namespace fs = std::filesystem;

// Only plain media containers read from local files: an uploaded HLS playlist, concat script or
// image pattern would make libavformat open other files (or URLs) on the server's behalf.
constexpr const char* kAllowedDemuxers = "mov,matroska,avi,flv,mpegts,mpeg,ogg,asf,m4v";
constexpr const char* kAllowedProtocols = "file";

constexpr double kMaxFrameRate = 60;
constexpr AVRational kFallbackFrameRate{30, 1};
constexpr int kAudioSampleRate = 48000;
constexpr int kThumbnailQscale = 4;
constexpr double kThumbnailAt = 1.0;  // seconds in, past fade-ins; earlier for shorter clips
constexpr int kPreviewKbps = 400;
// A source is truncated when its decodable pictures end this far before its declared duration.
constexpr double kTruncatedShare = 0.9;
constexpr double kTruncatedSlackSeconds = 1.0;
// Decoded time may pass max_seconds by rounding (a last frame's duration) without the source lying.
constexpr double kLimitSlackSeconds = 1.0;
constexpr auto kProgressInterval = std::chrono::milliseconds(250);
constexpr int kHighProfileIdc = 0x64;

[[noreturn]] void fail(const std::string& why, const std::string& detail = {}) { throw TranscodeError(why, detail); }

/// libav failures while transcoding are failures of this source: they end the job with a reason.
/// The owner reads a plain one; which step failed and libav's words for it go to the log.
void check(int rc, const char* what) {
  if (rc < 0) fail("the video could not be converted", std::string(what) + ": " + av_error_string(rc));
}

/// An AVDictionary of options, freed on scope exit.
struct Options {
  AVDictionary* dict = nullptr;
  Options() = default;
  Options(const Options&) = delete;
  Options& operator=(const Options&) = delete;
  ~Options() { av_dict_free(&dict); }
  Options& set(const char* key, const std::string& value) {
    av_dict_set(&dict, key, value.c_str(), 0);
    return *this;
  }
};

/// Opens `path` with the allowed demuxers and reads stream info; null with `rc` set on failure.
InputFormatPtr open_media(const fs::path& path, int& rc) {
  Options options;
  options.set("format_whitelist", kAllowedDemuxers).set("protocol_whitelist", kAllowedProtocols);
  AVFormatContext* raw = nullptr;
  rc = avformat_open_input(&raw, path.c_str(), nullptr, &options.dict);
  if (rc < 0) return nullptr;  // avformat_open_input freed `raw`
  InputFormatPtr input(raw);
  rc = avformat_find_stream_info(input.get(), nullptr);
  if (rc < 0) return nullptr;
  return input;
}

/// The main video stream: a real picture sequence, not cover art.
AVStream* video_stream_of(AVFormatContext& input) {
  const int index = av_find_best_stream(&input, AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  if (index < 0) return nullptr;
  AVStream* st = input.streams[index];
  if ((st->disposition & AV_DISPOSITION_ATTACHED_PIC) || st->codecpar->width <= 0 || st->codecpar->height <= 0 ||
      avcodec_find_decoder(st->codecpar->codec_id) == nullptr) {
    return nullptr;
  }
  return st;
}

AVStream* audio_stream_of(AVFormatContext& input) {
  const int index = av_find_best_stream(&input, AVMEDIA_TYPE_AUDIO, -1, -1, nullptr, 0);
  if (index < 0 || avcodec_find_decoder(input.streams[index]->codecpar->codec_id) == nullptr) return nullptr;
  return input.streams[index];
}

/// Clockwise degrees the display matrix turns the picture by (0 without one).
int rotation_of(const AVStream& st) {
  const auto* matrix = reinterpret_cast<const std::int32_t*>(
      av_stream_get_side_data(&st, AV_PKT_DATA_DISPLAYMATRIX, nullptr));
  if (matrix == nullptr) return 0;
  const double counter_clockwise = av_display_rotation_get(matrix);
  if (std::isnan(counter_clockwise)) return 0;
  const int clockwise = static_cast<int>(std::lround(-counter_clockwise)) % 360;
  return clockwise < 0 ? clockwise + 360 : clockwise;
}

/// Width and height as displayed: non-square pixels stretched, rotation applied.
std::pair<int, int> display_size(const AVStream& st) {
  int width = st.codecpar->width;
  const int height = st.codecpar->height;
  const AVRational sar = st.codecpar->sample_aspect_ratio;
  if (sar.num > 0 && sar.den > 0 && sar.num != sar.den) {
    width = static_cast<int>(std::lround(static_cast<double>(width) * sar.num / sar.den));
  }
  const int rotation = rotation_of(st);
  if (rotation == 90 || rotation == 270) return {height, width};
  return {width, height};
}

int even(double v) { return std::max(2, static_cast<int>(std::lround(v / 2)) * 2); }

/// The encoded size of `rung` for a picture displayed as `width` x `height`: the shorter side
/// becomes the rung's, the other keeps the aspect ratio; both even (4:2:0 chroma).
std::pair<int, int> rung_size(const Rung& rung, int width, int height) {
  if (width >= height) return {even(static_cast<double>(width) * rung.short_side / height), rung.short_side};
  return {rung.short_side, even(static_cast<double>(height) * rung.short_side / width)};
}

/// Filters that undo the rotation the display matrix asks for.
std::string rotation_filters(int clockwise) {
  switch (clockwise) {
    case 0: return "";
    case 90: return "transpose=clock,";
    case 180: return "hflip,vflip,";
    case 270: return "transpose=cclock,";
    default: fail("unsupported rotation of " + std::to_string(clockwise) + " degrees (only multiples of 90)");
  }
}

/// H.264 level for a rung at `fps`: more than 30 frames a second needs the next level up.
int level_for(const Rung& rung, double fps) {
  if (fps <= 30.5) return rung.level;
  switch (rung.level) {
    case 30: return 31;
    case 31: return 32;
    default: return 42;
  }
}

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

/// Writes `text` to `path` through a temporary file and a rename, so readers never see half of it.
void write_file(const fs::path& path, const std::string& text) {
  fs::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) throw std::runtime_error("cannot write " + tmp.string());
  }
  fs::rename(tmp, path);
}

/// Sends `frame` (nullptr flushes) to `encoder` and hands every packet it returns to `write`.
template <class Write>
void encode(AVCodecContext& encoder, const AVFrame* frame, AVPacket& packet, Write&& write) {
  check(avcodec_send_frame(&encoder, frame), "encoding");
  for (;;) {
    const int rc = avcodec_receive_packet(&encoder, &packet);
    if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return;
    check(rc, "encoding");
    write(packet);
    av_packet_unref(&packet);
  }
}

/// Writes `packet` (in `encoder`'s time base) to stream `st` of `muxer`; the muxer takes the reference.
void mux(AVFormatContext& muxer, const AVStream& st, const AVCodecContext& encoder, AVPacket& packet) {
  // x264 leaves durations unset; the HLS muxer needs them to time the last frame of a segment.
  if (packet.duration == 0 && encoder.codec_type == AVMEDIA_TYPE_VIDEO && encoder.framerate.num > 0) {
    packet.duration = av_rescale_q(1, av_inv_q(encoder.framerate), encoder.time_base);
  }
  av_packet_rescale_ts(&packet, encoder.time_base, st.time_base);
  packet.stream_index = st.index;
  check(av_interleaved_write_frame(&muxer, &packet), "writing output");
}

CodecContextPtr open_x264(int width, int height, AVRational time_base, AVRational fps, int kbps, int level,
                          int gop, bool global_header, const TranscodeOptions& options) {
  const AVCodec* codec = avcodec_find_encoder_by_name("libx264");
  if (codec == nullptr) throw std::runtime_error("libavcodec lacks libx264");
  CodecContextPtr enc = make_codec_context(codec);
  enc->width = width;
  enc->height = height;
  enc->pix_fmt = AV_PIX_FMT_YUV420P;
  enc->sample_aspect_ratio = AVRational{1, 1};
  enc->time_base = time_base;
  enc->framerate = fps;
  enc->bit_rate = static_cast<std::int64_t>(kbps) * 1000;
  enc->rc_max_rate = enc->bit_rate * 6 / 5;
  enc->rc_buffer_size = static_cast<int>(enc->bit_rate * 2);
  // Fixed GOP, no scene-cut keyframes: every rung has its IDR frames at the same instants, so
  // segments cut at them line up across rungs and players switch cleanly.
  enc->gop_size = gop;
  enc->keyint_min = gop;
  enc->level = level;
  enc->thread_count = options.threads;
  if (global_header) enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  av_opt_set(enc->priv_data, "preset", options.preset.c_str(), 0);
  av_opt_set(enc->priv_data, "profile", "high", 0);
  av_opt_set(enc->priv_data, "x264-params", "scenecut=0:open-gop=0", 0);
  check(avcodec_open2(enc.get(), codec, nullptr), "opening the H.264 encoder");
  return enc;
}

/// One rung being written: its filter sink, encoder and HLS muxer.
struct Rendition {
  Rung rung;
  int width = 0;
  int height = 0;
  fs::path dir;
  AVFilterContext* sink = nullptr;  // owned by the video graph
  CodecContextPtr encoder;
  OutputFormatPtr muxer;
  AVStream* video = nullptr;
  AVStream* audio = nullptr;
  bool writing = false;  // header written, trailer not yet
  double cpu_seconds = 0;
};

class Transcoder {
 public:
  Transcoder(const fs::path& source, const fs::path& out_dir, const TranscodeOptions& options,
             const ProgressFn& progress)
      : out_dir_(out_dir), options_(options), progress_(progress) {
    int rc = 0;
    input_ = open_media(source, rc);
    if (!input_) fail("the source cannot be read as a video", "opening the source: " + av_error_string(rc));
    video_in_ = video_stream_of(*input_);
    if (video_in_ == nullptr) fail("the source has no decodable video stream");
    audio_in_ = audio_stream_of(*input_);
    duration_ = input_->duration > 0 ? static_cast<double>(input_->duration) / AV_TIME_BASE : 0;
    origin_us_ = input_->start_time != AV_NOPTS_VALUE ? input_->start_time : 0;
    rotation_ = rotation_of(*video_in_);
    rotation_filters(rotation_);  // refuses odd angles before any work
    std::tie(width_, height_) = display_size(*video_in_);
    fps_ = av_guess_frame_rate(input_.get(), video_in_, nullptr);
    if (fps_.num <= 0 || fps_.den <= 0 || av_q2d(fps_) < 1 || av_q2d(fps_) > kMaxFrameRate) fps_ = kFallbackFrameRate;
    video_dec_ = open_decoder(*video_in_);
    if (audio_in_ != nullptr) {
      audio_dec_ = open_decoder(*audio_in_);
      open_aac();
    }
  }

  Transcoder(const Transcoder&) = delete;
  Transcoder& operator=(const Transcoder&) = delete;
  ~Transcoder() {
    // A transcode that failed or was cancelled midway: libavformat's hls muxer buffers the
    // current segment in memory and frees that buffer only in its trailer, so write it (the
    // files are thrown away) rather than leak it.
    for (auto& r : renditions_) {
      if (r.writing) av_write_trailer(r.muxer.get());
    }
  }

  TranscodeResult run() {
    prepare_output_dirs();
    PacketPtr packet = make_packet();
    int rc = 0;
    while ((rc = av_read_frame(input_.get(), packet.get())) >= 0) {
      if (packet->stream_index == video_in_->index) decode(*video_dec_, packet.get(), true);
      else if (audio_in_ != nullptr && packet->stream_index == audio_in_->index) decode(*audio_dec_, packet.get(), false);
      av_packet_unref(packet.get());
    }
    if (rc != AVERROR_EOF) fail("the source is damaged or truncated", "reading the source: " + av_error_string(rc));
    decode(*video_dec_, nullptr, true);
    if (audio_dec_) decode(*audio_dec_, nullptr, false);
    if (renditions_.empty()) fail("the source has no decodable video frames");
    if (duration_ > 0 && decoded_until_ < duration_ * kTruncatedShare - kTruncatedSlackSeconds) {
      char why[160];
      std::snprintf(why, sizeof why, "the source is truncated: only %.1f s of its declared %.1f s could be decoded",
                    decoded_until_, duration_);
      fail(why);
    }
    finish();
    return result();
  }

 private:
  CodecContextPtr open_decoder(const AVStream& st) {
    const AVCodec* codec = avcodec_find_decoder(st.codecpar->codec_id);
    CodecContextPtr dec = make_codec_context(codec);
    check(avcodec_parameters_to_context(dec.get(), st.codecpar), "reading codec parameters");
    dec->pkt_timebase = st.time_base;
    dec->thread_count = options_.threads;
    check(avcodec_open2(dec.get(), codec, nullptr), "opening a decoder");
    return dec;
  }

  void open_aac() {
    const AVCodec* codec = avcodec_find_encoder(AV_CODEC_ID_AAC);
    if (codec == nullptr) throw std::runtime_error("libavcodec lacks the AAC encoder");
    aac_ = make_codec_context(codec);
    aac_->sample_fmt = AV_SAMPLE_FMT_FLTP;
    aac_->sample_rate = kAudioSampleRate;
    av_channel_layout_default(&aac_->ch_layout, 2);
    aac_->bit_rate = static_cast<std::int64_t>(options_.audio_kbps) * 1000;
    aac_->time_base = AVRational{1, kAudioSampleRate};
    aac_->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;  // extradata lets the MPEG-TS muxer write ADTS headers
    check(avcodec_open2(aac_.get(), codec, nullptr), "opening the AAC encoder");
  }

  void prepare_output_dirs() {
    // A job resumed after a crash starts over: nothing of the interrupted attempt is kept.
    // master.m3u8 goes first: while it is missing, none of the video's files are served.
    ladder_ = ladder_for(std::min(width_, height_));
    for (const char* name : {"master.m3u8", "playlist.m3u8", "thumbnail.jpg", "preview.mp4"}) fs::remove(out_dir_ / name);
    for (const auto& rung : ladder_) fs::remove_all(out_dir_ / rung.name);
    fs::create_directories(out_dir_);
  }

  /// Decodes one packet (nullptr drains) and passes every frame on.
  void decode(AVCodecContext& dec, const AVPacket* packet, bool video) {
    // A corrupt packet is skipped; what is missing in the end shows in the truncation check.
    if (avcodec_send_packet(&dec, packet) < 0 && packet != nullptr) return;
    for (;;) {
      const int rc = avcodec_receive_frame(&dec, frame_.get());
      if (rc < 0) return;  // EAGAIN, EOF, or a frame that failed to decode
      if (video) on_video_frame(*frame_);
      else on_audio_frame(*frame_);
      av_frame_unref(frame_.get());
    }
  }

  void on_video_frame(AVFrame& frame) {
    if (frame.best_effort_timestamp == AV_NOPTS_VALUE) return;
    frame.pts = frame.best_effort_timestamp - av_rescale_q(origin_us_, AV_TIME_BASE_Q, video_in_->time_base);
    if (options_.max_pixels > 0 && std::int64_t{frame.width} * frame.height > options_.max_pixels) {
      fail("the video's pictures are larger than allowed",
           "decoded a " + std::to_string(frame.width) + "x" + std::to_string(frame.height) + " picture");
    }
    if (renditions_.empty()) open_video(frame);
    const double at = static_cast<double>(frame.pts + std::max<std::int64_t>(frame.pkt_duration, 0)) *
                      av_q2d(video_in_->time_base);
    decoded_until_ = std::max(decoded_until_, at);
    if (options_.max_seconds > 0 && decoded_until_ > options_.max_seconds + kLimitSlackSeconds) {
      fail("the video is longer than allowed", "decoded past " + std::to_string(options_.max_seconds) + " s");
    }
    check(av_buffersrc_add_frame_flags(video_src_, &frame, AV_BUFFERSRC_FLAG_KEEP_REF), "filtering video");
    drain_video();
    drain_audio();
    report_progress();
  }

  void on_audio_frame(AVFrame& frame) {
    if (!audio_graph_) open_audio_graph(frame);
    if (frame.best_effort_timestamp != AV_NOPTS_VALUE) {
      const std::int64_t origin = av_rescale_q(origin_us_, AV_TIME_BASE_Q, audio_in_->time_base);
      frame.pts = av_rescale_q(frame.best_effort_timestamp - origin, audio_in_->time_base,
                               AVRational{1, frame.sample_rate});
    }
    check(av_buffersrc_add_frame_flags(audio_src_, &frame, AV_BUFFERSRC_FLAG_KEEP_REF), "filtering audio");
    drain_audio();
  }

  /// Builds the video graph from the first decoded frame (its real pixel format and size):
  /// rotate, constant frame rate, then one scaler per rung. Opens the encoders and muxers.
  void open_video(const AVFrame& first) {
    video_graph_.reset(avfilter_graph_alloc());
    if (!video_graph_) throw std::bad_alloc();
    const AVRational sar = first.sample_aspect_ratio.num > 0 ? first.sample_aspect_ratio : AVRational{1, 1};
    char args[256];
    std::snprintf(args, sizeof args, "video_size=%dx%d:pix_fmt=%d:time_base=%d/%d:pixel_aspect=%d/%d", first.width,
                  first.height, first.format, video_in_->time_base.num, video_in_->time_base.den, sar.num, sar.den);
    check(avfilter_graph_create_filter(&video_src_, avfilter_get_by_name("buffer"), "in", args, nullptr,
                                       video_graph_.get()),
          "creating the video source");
    std::ostringstream desc;
    desc << "[in]" << rotation_filters(rotation_) << "fps=fps=" << fps_.num << "/" << fps_.den
         << ",format=yuv420p,split=" << ladder_.size();
    for (std::size_t i = 0; i < ladder_.size(); ++i) desc << "[s" << i << "]";
    FilterInOutPtr outputs(avfilter_inout_alloc());
    FilterInOutPtr inputs;
    if (!outputs) throw std::bad_alloc();
    outputs->name = av_strdup("in");
    outputs->filter_ctx = video_src_;
    for (std::size_t i = ladder_.size(); i-- > 0;) {
      Rendition& r = renditions_.emplace_back();
      r.rung = ladder_[i];
      std::tie(r.width, r.height) = rung_size(r.rung, width_, height_);
      r.dir = out_dir_ / r.rung.name;
      desc << ";[s" << i << "]scale=" << r.width << ":" << r.height << ",setsar=1[o" << i << "]";
      const std::string label = "o" + std::to_string(i);
      check(avfilter_graph_create_filter(&r.sink, avfilter_get_by_name("buffersink"), label.c_str(), nullptr, nullptr,
                                         video_graph_.get()),
            "creating a video sink");
      AVFilterInOut* in = avfilter_inout_alloc();
      if (in == nullptr) throw std::bad_alloc();
      in->name = av_strdup(label.c_str());
      in->filter_ctx = r.sink;
      in->next = inputs.release();
      inputs.reset(in);
    }
    std::reverse(renditions_.begin(), renditions_.end());  // lowest rung first
    AVFilterInOut* in_raw = inputs.release();
    AVFilterInOut* out_raw = outputs.release();
    const int rc = avfilter_graph_parse_ptr(video_graph_.get(), desc.str().c_str(), &in_raw, &out_raw, nullptr);
    inputs.reset(in_raw);
    outputs.reset(out_raw);
    check(rc, "building the video filters");
    check(avfilter_graph_config(video_graph_.get(), nullptr), "configuring the video filters");

    const int gop = std::max(1, static_cast<int>(std::lround(options_.segment_seconds * av_q2d(fps_))));
    for (auto& r : renditions_) {
      r.encoder = open_x264(r.width, r.height, av_buffersink_get_time_base(r.sink), fps_, r.rung.video_kbps,
                            level_for(r.rung, av_q2d(fps_)), gop, false, options_);
      open_hls_muxer(r);
    }
    const Rendition& low = renditions_.front();
    preview_ = open_x264(low.width, low.height, av_buffersink_get_time_base(low.sink), fps_, kPreviewKbps,
                         level_for(low.rung, av_q2d(fps_)), gop, true, options_);
    open_preview_muxer();
  }

  void open_hls_muxer(Rendition& r) {
    fs::create_directories(r.dir);
    AVFormatContext* raw = nullptr;
    check(avformat_alloc_output_context2(&raw, nullptr, "hls", (r.dir / "index.m3u8").c_str()), "creating HLS output");
    r.muxer.reset(raw);
    r.video = avformat_new_stream(raw, nullptr);
    if (r.video == nullptr) throw std::bad_alloc();
    check(avcodec_parameters_from_context(r.video->codecpar, r.encoder.get()), "describing the video stream");
    r.video->time_base = r.encoder->time_base;
    if (aac_) {
      r.audio = avformat_new_stream(raw, nullptr);
      if (r.audio == nullptr) throw std::bad_alloc();
      check(avcodec_parameters_from_context(r.audio->codecpar, aac_.get()), "describing the audio stream");
      r.audio->time_base = aac_->time_base;
    }
    Options options;
    options.set("hls_time", std::to_string(options_.segment_seconds))
        .set("hls_playlist_type", "vod")
        .set("hls_list_size", "0")
        .set("hls_flags", "independent_segments")
        .set("hls_segment_filename", (r.dir / "segment_%d.ts").string());
    check(avformat_write_header(raw, &options.dict), "starting HLS output");
    r.writing = true;
  }

  void open_preview_muxer() {
    const fs::path path = out_dir_ / "preview.mp4";
    AVFormatContext* raw = nullptr;
    check(avformat_alloc_output_context2(&raw, nullptr, "mp4", path.c_str()), "creating the preview");
    preview_muxer_.reset(raw);
    preview_stream_ = avformat_new_stream(raw, nullptr);
    if (preview_stream_ == nullptr) throw std::bad_alloc();
    check(avcodec_parameters_from_context(preview_stream_->codecpar, preview_.get()), "describing the preview");
    preview_stream_->time_base = preview_->time_base;
    check(avio_open(&raw->pb, path.c_str(), AVIO_FLAG_WRITE), "creating preview.mp4");
    Options options;
    options.set("movflags", "+faststart");  // the moov atom first: players start without a second request
    check(avformat_write_header(raw, &options.dict), "starting the preview");
  }

  void open_audio_graph(const AVFrame& first) {
    audio_graph_.reset(avfilter_graph_alloc());
    if (!audio_graph_) throw std::bad_alloc();
    AVChannelLayout layout{};
    if (first.ch_layout.order == AV_CHANNEL_ORDER_UNSPEC) av_channel_layout_default(&layout, first.ch_layout.nb_channels);
    else check(av_channel_layout_copy(&layout, &first.ch_layout), "reading the channel layout");
    char layout_name[128] = {};
    av_channel_layout_describe(&layout, layout_name, sizeof layout_name);
    av_channel_layout_uninit(&layout);
    char args[384];
    std::snprintf(args, sizeof args, "time_base=1/%d:sample_rate=%d:sample_fmt=%s:channel_layout=%s",
                  first.sample_rate, first.sample_rate,
                  av_get_sample_fmt_name(static_cast<AVSampleFormat>(first.format)), layout_name);
    check(avfilter_graph_create_filter(&audio_src_, avfilter_get_by_name("abuffer"), "ain", args, nullptr,
                                       audio_graph_.get()),
          "creating the audio source");
    check(avfilter_graph_create_filter(&audio_sink_, avfilter_get_by_name("abuffersink"), "aout", nullptr, nullptr,
                                       audio_graph_.get()),
          "creating the audio sink");
    FilterInOutPtr outputs(avfilter_inout_alloc());
    FilterInOutPtr inputs(avfilter_inout_alloc());
    if (!outputs || !inputs) throw std::bad_alloc();
    outputs->name = av_strdup("ain");
    outputs->filter_ctx = audio_src_;
    inputs->name = av_strdup("aout");
    inputs->filter_ctx = audio_sink_;
    // async: stretch or pad to the timestamps, so gaps in the source keep audio in sync.
    const std::string desc = "[ain]aresample=" + std::to_string(kAudioSampleRate) +
                             ":async=1,aformat=sample_fmts=fltp:channel_layouts=stereo[aout]";
    AVFilterInOut* in_raw = inputs.release();
    AVFilterInOut* out_raw = outputs.release();
    const int rc = avfilter_graph_parse_ptr(audio_graph_.get(), desc.c_str(), &in_raw, &out_raw, nullptr);
    inputs.reset(in_raw);
    outputs.reset(out_raw);
    check(rc, "building the audio filters");
    check(avfilter_graph_config(audio_graph_.get(), nullptr), "configuring the audio filters");
    av_buffersink_set_frame_size(audio_sink_, static_cast<unsigned>(aac_->frame_size));
  }

  void drain_video() {
    for (auto& r : renditions_) {
      for (;;) {
        const int rc = av_buffersink_get_frame(r.sink, filtered_.get());
        if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) break;
        check(rc, "filtering video");
        filtered_->pict_type = AV_PICTURE_TYPE_NONE;
        const double started = thread_cpu_seconds();
        encode(*r.encoder, filtered_.get(), *packet_,
               [&](AVPacket& p) { mux(*r.muxer, *r.video, *r.encoder, p); });
        r.cpu_seconds += thread_cpu_seconds() - started;
        if (&r == &renditions_.front()) extras_from(*filtered_, r);
        av_frame_unref(filtered_.get());
      }
    }
  }

  /// The lowest rung's pictures also make the preview (its first seconds) and the thumbnail.
  void extras_from(AVFrame& picture, const Rendition& low) {
    const double at = static_cast<double>(picture.pts) * av_q2d(low.encoder->time_base);
    if (!thumbnail_ || (thumbnail_at_ < std::min(kThumbnailAt, duration_ / 2) && at > thumbnail_at_)) {
      thumbnail_.reset(av_frame_clone(&picture));
      if (!thumbnail_) throw std::bad_alloc();
      thumbnail_at_ = at;
    }
    if (preview_muxer_ && at < options_.preview_seconds) {
      encode(*preview_, &picture, *packet_, [&](AVPacket& p) { mux(*preview_muxer_, *preview_stream_, *preview_, p); });
    } else if (preview_muxer_) {
      finish_preview();
    }
  }

  void finish_preview() {
    encode(*preview_, nullptr, *packet_, [&](AVPacket& p) { mux(*preview_muxer_, *preview_stream_, *preview_, p); });
    check(av_write_trailer(preview_muxer_.get()), "finishing the preview");
    preview_muxer_.reset();
  }

  /// Audio is encoded once and the same AAC packets go to every rung.
  void drain_audio() {
    if (!audio_graph_ || renditions_.empty()) return;  // held in the graph until the muxers exist
    for (;;) {
      const int rc = av_buffersink_get_frame(audio_sink_, filtered_.get());
      if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) break;
      check(rc, "filtering audio");
      encode_audio(filtered_.get());
      av_frame_unref(filtered_.get());
    }
  }

  void encode_audio(const AVFrame* frame) {
    encode(*aac_, frame, *packet_, [&](AVPacket& p) {
      for (auto& r : renditions_) {
        PacketPtr copy = make_packet();
        check(av_packet_ref(copy.get(), &p), "copying audio");
        mux(*r.muxer, *r.audio, *aac_, *copy);
      }
    });
  }

  void report_progress() {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_progress_ < kProgressInterval) return;
    last_progress_ = now;
    const double fraction = duration_ > 0 ? std::clamp(decoded_until_ / duration_, 0.0, 1.0) : 0;
    if (progress_ && !progress_(fraction)) throw TranscodeCancelled();
  }

  void finish() {
    check(av_buffersrc_add_frame(video_src_, nullptr), "flushing video");
    drain_video();
    if (audio_graph_) {
      check(av_buffersrc_add_frame(audio_src_, nullptr), "flushing audio");
      drain_audio();
    }
    for (auto& r : renditions_) {
      const double started = thread_cpu_seconds();
      encode(*r.encoder, nullptr, *packet_, [&](AVPacket& p) { mux(*r.muxer, *r.video, *r.encoder, p); });
      r.cpu_seconds += thread_cpu_seconds() - started;
    }
    if (aac_) encode_audio(nullptr);
    for (auto& r : renditions_) {
      r.writing = false;
      check(av_write_trailer(r.muxer.get()), "finishing HLS output");
    }
    if (preview_muxer_) finish_preview();
    if (!thumbnail_) fail("no pictures came out of the video filters");
    std::string jpeg = encode_jpeg(*thumbnail_, kThumbnailQscale);
    write_file(out_dir_ / "thumbnail.jpg", jpeg);
  }

  /// Reads a rung's playlist back: measured bandwidths, and (for the best rung) playlist.m3u8,
  /// the same list with URIs relative to the video's directory.
  Variant measure(const Rendition& r, bool write_best) {
    std::ifstream in(r.dir / "index.m3u8");
    std::string line;
    std::ostringstream best;
    double segment_seconds = 0, total_seconds = 0, total_bits = 0, peak = 0;
    while (std::getline(in, line)) {
      if (line.rfind("#EXTINF:", 0) == 0) {
        segment_seconds = std::strtod(line.c_str() + 8, nullptr);
      } else if (!line.empty() && line[0] != '#') {
        const double bits = static_cast<double>(fs::file_size(r.dir / line)) * 8;
        if (segment_seconds > 0) peak = std::max(peak, bits / segment_seconds);
        total_bits += bits;
        total_seconds += segment_seconds;
        line.insert(0, r.rung.name + "/");
      }
      best << line << '\n';
    }
    if (total_seconds <= 0) fail("the encoder wrote no segments for " + r.rung.name);
    if (write_best) write_file(out_dir_ / "playlist.m3u8", best.str());
    char codecs[48];
    std::snprintf(codecs, sizeof codecs, "avc1.%02x00%02x%s", kHighProfileIdc, r.encoder->level,
                  aac_ ? ",mp4a.40.2" : "");
    return Variant{.name = r.rung.name,
                   .width = r.width,
                   .height = r.height,
                   .bandwidth = static_cast<std::int64_t>(std::ceil(peak)),
                   .average_bandwidth = static_cast<std::int64_t>(std::ceil(total_bits / total_seconds)),
                   .codecs = codecs,
                   .encode_cpu_seconds = r.cpu_seconds};
  }

  TranscodeResult result() {
    TranscodeResult out{.duration_seconds = duration_ > 0 ? duration_ : decoded_until_,
                        .width = width_,
                        .height = height_,
                        .frame_rate = av_q2d(fps_),
                        .variants = {}};
    std::ostringstream master;
    master << "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-INDEPENDENT-SEGMENTS\n";
    for (const auto& r : renditions_) {
      const Variant& v = out.variants.emplace_back(measure(r, &r == &renditions_.back()));
      char attributes[256];
      std::snprintf(attributes, sizeof attributes,
                    "#EXT-X-STREAM-INF:BANDWIDTH=%lld,AVERAGE-BANDWIDTH=%lld,RESOLUTION=%dx%d,FRAME-RATE=%.3f,"
                    "CODECS=\"%s\"\n",
                    static_cast<long long>(v.bandwidth), static_cast<long long>(v.average_bandwidth), v.width,
                    v.height, out.frame_rate, v.codecs.c_str());
      master << attributes << v.name << "/index.m3u8\n";
    }
    write_file(out_dir_ / "master.m3u8", master.str());  // last: its presence means "complete"
    return out;
  }

  fs::path out_dir_;
  const TranscodeOptions& options_;
  const ProgressFn& progress_;
  InputFormatPtr input_;
  AVStream* video_in_ = nullptr;
  AVStream* audio_in_ = nullptr;
  double duration_ = 0;
  std::int64_t origin_us_ = 0;
  int rotation_ = 0;
  int width_ = 0;
  int height_ = 0;
  AVRational fps_{};
  std::vector<Rung> ladder_;
  CodecContextPtr video_dec_;
  CodecContextPtr audio_dec_;
  CodecContextPtr aac_;
  FilterGraphPtr video_graph_;
  AVFilterContext* video_src_ = nullptr;
  FilterGraphPtr audio_graph_;
  AVFilterContext* audio_src_ = nullptr;
  AVFilterContext* audio_sink_ = nullptr;
  std::vector<Rendition> renditions_;
  CodecContextPtr preview_;
  OutputFormatPtr preview_muxer_;
  AVStream* preview_stream_ = nullptr;
  FramePtr thumbnail_;
  double thumbnail_at_ = 0;
  FramePtr frame_ = make_frame();
  FramePtr filtered_ = make_frame();
  PacketPtr packet_ = make_packet();
  double decoded_until_ = 0;
  std::chrono::steady_clock::time_point last_progress_{};
};

}  // namespace

VideoProbe probe_video(const std::filesystem::path& path) {
  int rc = 0;
  InputFormatPtr input = open_media(path, rc);
  AVStream* video = input ? video_stream_of(*input) : nullptr;
  if (video == nullptr) {
    spdlog::debug("upload rejected as no video: {}", rc < 0 ? av_error_string(rc) : "no video stream");
    throw ApiError(ErrorCode::unsupported_media_type, "The upload is not a video file");
  }
  const auto [width, height] = display_size(*video);
  return VideoProbe{.duration_seconds = input->duration > 0 ? static_cast<double>(input->duration) / AV_TIME_BASE : 0,
                    .width = width,
                    .height = height,
                    .has_audio = audio_stream_of(*input) != nullptr};
}

std::vector<Rung> ladder_for(int source_short_side) {
  static const Rung kLadder[] = {{"360p", 360, 800, 30}, {"720p", 720, 2800, 31}, {"1080p", 1080, 5000, 40}};
  std::vector<Rung> out;
  for (const Rung& rung : kLadder) {
    if (rung.short_side <= source_short_side) out.push_back(rung);
  }
  if (out.empty()) {
    const int side = std::max(2, source_short_side / 2 * 2);
    out.push_back(Rung{std::to_string(side) + "p", side, 500, 30});
  }
  return out;
}

TranscodeResult transcode_to_hls(const std::filesystem::path& source, const std::filesystem::path& out_dir,
                                 const TranscodeOptions& options, const ProgressFn& progress) {
  Transcoder transcoder(source, out_dir, options, progress);
  return transcoder.run();
}

}  // namespace reelhub::media
