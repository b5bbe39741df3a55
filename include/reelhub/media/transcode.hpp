#pragma once
// Uploaded videos: probing an upload, and turning a source file into a multi-bitrate HLS ladder
// (plus thumbnail and preview) with one decode. Pure libav*; the videos module owns jobs and rows.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace reelhub::media {

/// What an upload holds, as libavformat reads it.
struct VideoProbe {
  double duration_seconds = 0;  // 0 when the container does not say
  int width = 0;                // as displayed: rotation applied
  int height = 0;
  bool has_audio = false;
};

/// Opens the file with libavformat and reads stream info. Throws ApiError(unsupported_media_type)
/// when it is no media container libavformat knows or holds no video stream, whatever its name
/// or declared type.
VideoProbe probe_video(const std::filesystem::path& path);

/// One rendition of the ladder. `short_side` is the height of a landscape picture (the width of
/// a portrait one), so "720p" means the same quality either way up.
struct Rung {
  std::string name;  // "360p", "720p", "1080p"; a smaller source gets one rung named after itself
  int short_side = 0;
  int video_kbps = 0;
  int level = 0;  // H.264 level_idc (30 = 3.0), written to the stream and to CODECS
};

/// The rungs for a source whose shorter side is `source_short_side`: 360p, 720p and 1080p up to
/// the source, never above it (a 480p source gets 360p only). A source below 360p gets a single
/// rung at its own (even) size.
std::vector<Rung> ladder_for(int source_short_side);

struct TranscodeOptions {
  int segment_seconds = 4;      // HLS target duration; the GOP is exactly this long
  int threads = 1;              // libav threads per decoder and per encoder (x264: per rung)
  std::string preset = "veryfast";
  double preview_seconds = 5;   // length of preview.mp4
  int audio_kbps = 128;
  // The upload limits again, against what is decoded rather than what the container declares
  // (a header may claim one second and hold hours): past them the transcode fails. 0 = none.
  double max_seconds = 0;
  std::int64_t max_pixels = 0;  // of a decoded picture, width x height
};

/// One written rendition, as master.m3u8 announces it.
struct Variant {
  std::string name;
  int width = 0;
  int height = 0;
  std::int64_t bandwidth = 0;          // peak bits/s over the segments, audio included
  std::int64_t average_bandwidth = 0;  // bits/s over the whole rendition
  std::string codecs;                  // "avc1.64001f,mp4a.40.2"
  double encode_cpu_seconds = 0;       // CPU time of the calling thread in this rung's encoder (all of it
                                       // when threads == 1; x264's own threads are not counted)
};

struct TranscodeResult {
  double duration_seconds = 0;
  int width = 0;  // source as displayed
  int height = 0;
  double frame_rate = 0;  // of every rendition (constant)
  std::vector<Variant> variants;  // lowest first
};

/// The source cannot become a video: truncated, undecodable, unsupported rotation. what() is
/// the reason shown to the owner, in plain words without file paths or libav's error text;
/// detail() adds those, for the log.
class TranscodeError : public std::runtime_error {
 public:
  explicit TranscodeError(const std::string& reason, std::string detail = {})
      : std::runtime_error(reason), detail_(detail.empty() ? reason : std::move(detail)) {}
  const std::string& detail() const { return detail_; }

 private:
  std::string detail_;
};

/// Called with the fraction done (0..1) a few times a second; return false to abandon the
/// transcode (it then throws TranscodeCancelled).
using ProgressFn = std::function<bool(double fraction)>;

struct TranscodeCancelled : std::runtime_error {
  TranscodeCancelled() : std::runtime_error("transcode cancelled") {}
};

/// Decodes `source` once and writes, under `out_dir`:
///   <rung>/index.m3u8 + <rung>/segment_<n>.ts for every rung (libx264 + AAC, constant frame
///   rate, keyframes every segment_seconds on every rung, so segments align across rungs),
///   playlist.m3u8 (the best rung, URIs relative to out_dir), thumbnail.jpg, preview.mp4 (the
///   first seconds of the lowest rung, no audio) and, last, master.m3u8.
/// Rotation metadata is applied (multiples of 90 degrees); variable frame rate sources are
/// resampled to constant frame rate; a missing audio track gives video-only renditions.
/// Throws TranscodeError with a readable reason, TranscodeCancelled when `progress` said stop.
TranscodeResult transcode_to_hls(const std::filesystem::path& source, const std::filesystem::path& out_dir,
                                 const TranscodeOptions& options, const ProgressFn& progress);

}  // namespace reelhub::media
