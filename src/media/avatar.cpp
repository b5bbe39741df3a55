#include "reelhub/media/avatar.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <utility>

#include "reelhub/core/error.hpp"
#include "reelhub/media/ffmpeg.hpp"

extern "C" {
#include <libavutil/dict.h>
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
}

namespace reelhub::media {
namespace {

constexpr int kJpegQscale = 3;  // 2 (best) .. 31; 3 keeps faces crisp in 10-25 KB
constexpr std::size_t kIoBufferSize = 64 * 1024;

/// Every way an upload can fail to be an image ends here: one 415 for the client, the detail in the log.
[[noreturn]] void reject(const char* why, int averror = 0) {
  spdlog::debug("avatar rejected: {}{}{}", why, averror != 0 ? ": " : "",
                averror != 0 ? av_error_string(averror) : "");
  throw ApiError(ErrorCode::unsupported_media_type, "Avatar must be a PNG or JPEG image");
}

/// Read cursor over the uploaded bytes, the opaque of the custom AVIOContext.
struct MemoryReader {
  std::string_view data;
  std::size_t pos = 0;
};

int read_memory(void* opaque, std::uint8_t* buf, int size) {
  auto& reader = *static_cast<MemoryReader*>(opaque);
  const std::size_t n = std::min(static_cast<std::size_t>(size), reader.data.size() - reader.pos);
  if (n == 0) return AVERROR_EOF;
  std::copy_n(reader.data.data() + reader.pos, n, buf);
  reader.pos += n;
  return static_cast<int>(n);
}

std::int64_t seek_memory(void* opaque, std::int64_t offset, int whence) {
  auto& reader = *static_cast<MemoryReader*>(opaque);
  const auto size = static_cast<std::int64_t>(reader.data.size());
  std::int64_t target = 0;
  switch (whence & ~AVSEEK_FORCE) {
    case AVSEEK_SIZE: return size;
    case SEEK_SET: target = offset; break;
    case SEEK_CUR: target = static_cast<std::int64_t>(reader.pos) + offset; break;
    case SEEK_END: target = size + offset; break;
    default: return AVERROR(EINVAL);
  }
  if (target < 0 || target > size) return AVERROR(EINVAL);
  reader.pos = static_cast<std::size_t>(target);
  return target;
}

/// Demuxes and decodes the first picture. Only the PNG and JPEG demuxers may even open the
/// bytes (format_whitelist), which also keeps playlist-like demuxers from opening other files.
FramePtr decode_first_picture(std::string_view image) {
  MemoryReader reader{image};
  IOContextPtr io = make_io_context(kIoBufferSize, false, &reader, read_memory, nullptr, seek_memory);
  AVFormatContext* raw = avformat_alloc_context();
  if (raw == nullptr) throw std::bad_alloc();
  raw->pb = io.get();
  raw->flags |= AVFMT_FLAG_CUSTOM_IO;
  raw->format_whitelist = av_strdup("png_pipe,jpeg_pipe");
  if (int rc = avformat_open_input(&raw, nullptr, nullptr, nullptr); rc < 0) {
    reject("not a PNG or JPEG stream", rc);  // avformat_open_input freed `raw`
  }
  InputFormatPtr format(raw);
  if (format->nb_streams < 1) reject("no stream");
  const AVCodecParameters* par = format->streams[0]->codecpar;
  if (par->codec_id != AV_CODEC_ID_PNG && par->codec_id != AV_CODEC_ID_MJPEG) reject("codec not allowed");

  const AVCodec* codec = avcodec_find_decoder(par->codec_id);
  if (codec == nullptr) throw std::runtime_error("libavcodec lacks the PNG or JPEG decoder");
  CodecContextPtr decoder = make_codec_context(codec);
  if (int rc = avcodec_parameters_to_context(decoder.get(), par); rc < 0) reject("bad parameters", rc);
  decoder->max_pixels = avatar_max_pixels;  // checked before the decoder allocates the picture
  decoder->thread_count = 1;
  if (int rc = avcodec_open2(decoder.get(), codec, nullptr); rc < 0) reject("decoder refused", rc);

  PacketPtr packet = make_packet();
  FramePtr frame = make_frame();
  bool draining = false;
  for (;;) {
    if (!draining) {
      const int rc = av_read_frame(format.get(), packet.get());
      if (rc == AVERROR_EOF) {
        draining = true;
        avcodec_send_packet(decoder.get(), nullptr);
      } else if (rc < 0) {
        reject("read failed", rc);
      } else {
        const int sent = packet->stream_index == 0 ? avcodec_send_packet(decoder.get(), packet.get()) : 0;
        av_packet_unref(packet.get());
        if (sent < 0 && sent != AVERROR(EAGAIN)) reject("undecodable", sent);
      }
    }
    const int rc = avcodec_receive_frame(decoder.get(), frame.get());
    if (rc == 0) break;
    if (rc != AVERROR(EAGAIN) || draining) reject("no picture", rc);
  }
  if (frame->width < 1 || frame->height < 1 || frame->width > avatar_max_side ||
      frame->height > avatar_max_side) {
    reject("dimensions out of range");
  }
  return frame;
}

/// Keeps the centered square of `frame` (in place, by moving its data pointers).
void crop_to_center_square(AVFrame& frame) {
  const int side = std::min(frame.width, frame.height);
  const auto* desc = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(frame.format));
  // Bitstream formats (1-bit PNGs) can only be cropped from the right and bottom.
  const bool far_edges_only = desc == nullptr || (desc->flags & AV_PIX_FMT_FLAG_BITSTREAM);
  const int excess_x = frame.width - side;
  const int excess_y = frame.height - side;
  frame.crop_left = far_edges_only ? 0 : static_cast<std::size_t>(excess_x / 2);
  frame.crop_right = static_cast<std::size_t>(excess_x) - frame.crop_left;
  frame.crop_top = far_edges_only ? 0 : static_cast<std::size_t>(excess_y / 2);
  frame.crop_bottom = static_cast<std::size_t>(excess_y) - frame.crop_top;
  if (int rc = av_frame_apply_cropping(&frame, AV_FRAME_CROP_UNALIGNED); rc < 0) reject("crop failed", rc);
}

FramePtr allocate_picture(AVPixelFormat format, int side) {
  FramePtr frame = make_frame();
  frame->format = format;
  frame->width = side;
  frame->height = side;
  if (int rc = av_frame_get_buffer(frame.get(), 0); rc < 0) throw std::bad_alloc();
  return frame;
}

/// swscale warns on every use of the deprecated YUVJ ("JPEG range") formats that JPEG decoders and
/// encoders use: name the plain format to it and ask for full range instead (same memory layout).
AVPixelFormat plain_yuv(AVPixelFormat format, bool& full_range) {
  switch (format) {
    case AV_PIX_FMT_YUVJ420P: full_range = true; return AV_PIX_FMT_YUV420P;
    case AV_PIX_FMT_YUVJ422P: full_range = true; return AV_PIX_FMT_YUV422P;
    case AV_PIX_FMT_YUVJ444P: full_range = true; return AV_PIX_FMT_YUV444P;
    case AV_PIX_FMT_YUVJ440P: full_range = true; return AV_PIX_FMT_YUV440P;
    case AV_PIX_FMT_YUVJ411P: full_range = true; return AV_PIX_FMT_YUV411P;
    default: return format;
  }
}

/// Converts (and scales) `src` into `dst`, whose size and format are already set.
void convert(const AVFrame& src, AVFrame& dst, int flags) {
  bool src_full = false;
  bool dst_full = false;
  const AVPixelFormat src_format = plain_yuv(static_cast<AVPixelFormat>(src.format), src_full);
  const AVPixelFormat dst_format = plain_yuv(static_cast<AVPixelFormat>(dst.format), dst_full);
  SwsContextPtr sws(sws_getContext(src.width, src.height, src_format, dst.width, dst.height, dst_format, flags,
                                   nullptr, nullptr, nullptr));
  if (!sws) reject("pixel format not convertible");
  if (src_full || dst_full) {
    int* inv_table = nullptr;
    int* table = nullptr;
    int src_range = 0, dst_range = 0, brightness = 0, contrast = 0, saturation = 0;
    sws_getColorspaceDetails(sws.get(), &inv_table, &src_range, &table, &dst_range, &brightness, &contrast,
                             &saturation);
    sws_setColorspaceDetails(sws.get(), inv_table, src_full ? 1 : src_range, table, dst_full ? 1 : dst_range,
                             brightness, contrast, saturation);
  }
  sws_scale(sws.get(), src.data, src.linesize, 0, src.height, dst.data, dst.linesize);
}

/// Blends RGBA pixels over white and makes them opaque: JPEG has no alpha, and transparent
/// pixels often hold black that would otherwise show.
void flatten_over_white(AVFrame& rgba) {
  for (int y = 0; y < rgba.height; ++y) {
    std::uint8_t* p = rgba.data[0] + static_cast<std::ptrdiff_t>(y) * rgba.linesize[0];
    for (int x = 0; x < rgba.width; ++x, p += 4) {
      const unsigned alpha = p[3];
      for (int c = 0; c < 3; ++c) p[c] = static_cast<std::uint8_t>((p[c] * alpha + 255 * (255 - alpha) + 127) / 255);
      p[3] = 255;
    }
  }
}

/// EXIF orientation (1..8) of a decoded picture; 1 (as stored) when absent. Phones store photos
/// sideways and rely on this tag, so ignoring it would show their avatars rotated.
int exif_orientation(const AVFrame& frame) {
  const AVDictionaryEntry* tag = av_dict_get(frame.metadata, "Orientation", nullptr, 0);
  if (tag == nullptr) return 1;
  const int value = std::atoi(tag->value);  // libavcodec pads the number with spaces
  return value >= 1 && value <= 8 ? value : 1;
}

/// Applies an EXIF orientation to a square RGBA picture. Rotations and mirrors commute with
/// the center crop, so turning the already cropped square gives the crop of the turned photo.
void apply_orientation(AVFrame& rgba, int orientation) {
  if (orientation == 1) return;
  const int n = rgba.width;
  FramePtr turned = allocate_picture(AV_PIX_FMT_RGBA, n);
  for (int y = 0; y < n; ++y) {
    for (int x = 0; x < n; ++x) {
      const int m = n - 1;
      // Source pixel of displayed (x, y), per the EXIF definition of each orientation.
      const auto [sx, sy] = [&]() -> std::pair<int, int> {
        switch (orientation) {
          case 2: return {m - x, y};
          case 3: return {m - x, m - y};
          case 4: return {x, m - y};
          case 5: return {y, x};
          case 6: return {y, m - x};
          case 7: return {m - y, m - x};
          default: return {m - y, x};  // 8
        }
      }();
      std::copy_n(rgba.data[0] + sy * rgba.linesize[0] + sx * 4, 4, turned->data[0] + y * turned->linesize[0] + x * 4);
    }
  }
  av_image_copy_plane(rgba.data[0], rgba.linesize[0], turned->data[0], turned->linesize[0], n * 4, n);
}

}  // namespace

std::string transcode_avatar(std::string_view image) {
  FramePtr decoded = decode_first_picture(image);
  crop_to_center_square(*decoded);
  FramePtr rgba = allocate_picture(AV_PIX_FMT_RGBA, avatar_side);
  convert(*decoded, *rgba, SWS_LANCZOS | SWS_ACCURATE_RND);
  flatten_over_white(*rgba);
  apply_orientation(*rgba, exif_orientation(*decoded));
  FramePtr yuv = allocate_picture(AV_PIX_FMT_YUVJ420P, avatar_side);
  convert(*rgba, *yuv, SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INP);
  return encode_jpeg(*yuv, kJpegQscale);
}

}  // namespace reelhub::media
