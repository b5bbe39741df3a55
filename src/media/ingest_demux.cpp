#include "reelhub/media/ingest_demux.hpp"

#include <new>
#include <optional>
#include <stdexcept>
#include <utility>

#include "reelhub/media/ffmpeg.hpp"

namespace reelhub::media {
namespace {

/// What libavformat may read to find the streams: ~1 s of a high-bitrate publisher. Garbage
/// fails within this much instead of being searched for MPEG-TS sync bytes indefinitely.
constexpr const char* kProbeSize = "2000000";

}  // namespace

DemuxEnd demux_publisher(AVIOContext& io, std::chrono::milliseconds target_duration, std::size_t max_segment_bytes,
                         const DemuxHooks& hooks) {
  AVFormatContext* raw = avformat_alloc_context();
  if (raw == nullptr) throw std::bad_alloc();
  raw->pb = &io;
  raw->flags |= AVFMT_FLAG_CUSTOM_IO;
  AVDictionary* opts = nullptr;
  av_dict_set(&opts, "probesize", kProbeSize, 0);
  av_dict_set_int(&opts, "analyzeduration",
                  std::chrono::duration_cast<std::chrono::microseconds>(kDemuxAnalyzeDuration).count(), 0);
  const int opened = avformat_open_input(&raw, nullptr, av_find_input_format("mpegts"), &opts);
  av_dict_free(&opts);
  if (opened < 0) return {"not an MPEG-TS stream: " + av_error_string(opened)};  // `raw` was freed
  InputFormatPtr input(raw);
  if (const int err = avformat_find_stream_info(input.get(), nullptr); err < 0)
    return {"cannot read stream parameters: " + av_error_string(err)};
  const int video = av_find_best_stream(input.get(), AVMEDIA_TYPE_VIDEO, -1, -1, nullptr, 0);
  const int audio = av_find_best_stream(input.get(), AVMEDIA_TYPE_AUDIO, -1, -1, nullptr, 0);
  if (video < 0) return {"no video stream in the published MPEG-TS"};
  const AVCodecID vcodec = input->streams[video]->codecpar->codec_id;
  if (vcodec != AV_CODEC_ID_H264 && vcodec != AV_CODEC_ID_HEVC)
    return {std::string("unsupported video codec ") + avcodec_get_name(vcodec) + " (H.264 or HEVC only)"};
  if (audio >= 0 && input->streams[audio]->codecpar->codec_id != AV_CODEC_ID_AAC)
    return {std::string("unsupported audio codec ") + avcodec_get_name(input->streams[audio]->codecpar->codec_id) +
            " (AAC only)"};

  WallClock::time_point arrival;
  std::optional<PartOutput> parts;
  if (hooks.on_part) {
    parts = PartOutput{.part_target = hooks.part_target,
                       .on_init = hooks.on_init,
                       .on_chunk = hooks.on_chunk,
                       .on_part = [&](double seconds) { hooks.on_part(seconds, arrival); }};
  }
  LiveSegmenter segmenter(*input, video, audio, target_duration, max_segment_bytes, hooks.first_data(),
                          [&](CutSegment segment) { hooks.on_segment(std::move(segment), arrival); },
                          std::move(parts));
  PacketPtr packet = make_packet();
  DemuxEnd ended;
  for (;;) {
    const int err = av_read_frame(input.get(), packet.get());
    if (err < 0) {
      ended.reason = "stream ended: " + av_error_string(err);
      break;
    }
    arrival = WallClock::now();
    try {
      segmenter.write(*packet, arrival);
    } catch (const SegmentLimitExceeded& e) {
      ended = {e.what(), true};
      break;
    } catch (const std::runtime_error& e) {
      ended.reason = e.what();
      break;
    }
    av_packet_unref(packet.get());
    if (hooks.on_packet) hooks.on_packet();
  }
  arrival = WallClock::now();
  segmenter.finish();  // the part since the last keyframe is kept for the recording
  return ended;
}

}  // namespace reelhub::media
