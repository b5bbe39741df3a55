// A live publisher's bytes after SRT: the input is the MPEG-TS stream, read by
// media::demux_publisher exactly as an ingest session reads it (forced mpegts, the production
// probe size and analyze duration, the codec checks, LiveSegmenter cutting segments and parts).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "check.hpp"
#include "reelhub/media/ffmpeg.hpp"
#include "reelhub/media/ingest_demux.hpp"

namespace {

struct Source {
  const std::uint8_t* data;
  std::size_t size;
  std::size_t pos = 0;
};

int read_source(void* opaque, std::uint8_t* buf, int size) {
  auto& src = *static_cast<Source*>(opaque);
  const std::size_t n = std::min(static_cast<std::size_t>(size), src.size - src.pos);
  if (n == 0) return AVERROR_EOF;
  std::memcpy(buf, src.data + src.pos, n);
  src.pos += n;
  return static_cast<int>(n);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  av_log_set_level(AV_LOG_QUIET);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace reelhub::media;
  Source source{data, size};
  // The session's buffer size; EOF at the end of the input plays the publisher disconnecting.
  IOContextPtr io = make_io_context(64 * 1024, false, &source, &read_source, nullptr, nullptr);
  std::size_t segment_bytes = 0;
  const auto started = WallClock::now();
  // A small segment cap, so the byte limit's cut and refusal are reached by small inputs too.
  constexpr std::size_t kMaxSegmentBytes = 64 * 1024;
  std::size_t largest = 0;
  // The LL-HLS output too: the fMP4 muxer sees whatever the demuxer lets through.
  demux_publisher(*io, std::chrono::milliseconds(1000), kMaxSegmentBytes,
                  {.first_data = [started] { return started; },
                   .on_segment =
                       [&](CutSegment segment, WallClock::time_point) {
                         segment_bytes += segment.data.size();
                         largest = std::max(largest, segment.data.size());
                       },
                   .on_packet = {},
                   .part_target = std::chrono::milliseconds(200),
                   .on_init = [](std::string) {},
                   .on_chunk = [](std::string, bool) {},
                   .on_part = [](double, WallClock::time_point) {}});
  reelhub::fuzz::require(segment_bytes % 188 == 0, "segments are whole MPEG-TS packets");
  reelhub::fuzz::require(largest <= kMaxSegmentBytes, "no segment exceeds the byte limit");
  return 0;
}
