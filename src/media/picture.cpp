#include "reelhub/media/picture.hpp"

#include <stdexcept>

namespace reelhub::media {
namespace {

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

}  // namespace

FramePtr allocate_picture(AVPixelFormat format, int width, int height) {
  FramePtr frame = make_frame();
  frame->format = format;
  frame->width = width;
  frame->height = height;
  if (int rc = av_frame_get_buffer(frame.get(), 0); rc < 0) throw std::bad_alloc();
  return frame;
}

bool convert_picture(const AVFrame& src, AVFrame& dst, int flags) {
  bool src_full = false;
  bool dst_full = false;
  const AVPixelFormat src_format = plain_yuv(static_cast<AVPixelFormat>(src.format), src_full);
  const AVPixelFormat dst_format = plain_yuv(static_cast<AVPixelFormat>(dst.format), dst_full);
  SwsContextPtr sws(sws_getContext(src.width, src.height, src_format, dst.width, dst.height, dst_format, flags,
                                   nullptr, nullptr, nullptr));
  if (!sws) return false;
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
  return true;
}

std::string encode_jpeg(AVFrame& picture, int qscale) {
  const AVCodec* codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
  if (codec == nullptr) throw std::runtime_error("libavcodec lacks the MJPEG encoder");
  CodecContextPtr encoder = make_codec_context(codec);
  const bool full_range = picture.format == AV_PIX_FMT_YUVJ420P;
  encoder->width = picture.width;
  encoder->height = picture.height;
  encoder->pix_fmt = static_cast<AVPixelFormat>(picture.format);
  encoder->color_range = full_range ? AVCOL_RANGE_JPEG : AVCOL_RANGE_MPEG;
  // Video-range YUV in a JPEG is legal but not baseline JFIF; every decoder that matters reads it.
  if (!full_range) encoder->strict_std_compliance = FF_COMPLIANCE_UNOFFICIAL;
  encoder->time_base = AVRational{1, 1};
  encoder->flags |= AV_CODEC_FLAG_QSCALE;
  encoder->global_quality = FF_QP2LAMBDA * qscale;
  if (int rc = avcodec_open2(encoder.get(), codec, nullptr); rc < 0) {
    throw std::runtime_error("MJPEG encoder refused to open: " + av_error_string(rc));
  }
  picture.quality = encoder->global_quality;  // with QSCALE the encoder takes it from the frame
  picture.pts = 0;
  if (int rc = avcodec_send_frame(encoder.get(), &picture); rc < 0) {
    throw std::runtime_error("MJPEG encoding failed: " + av_error_string(rc));
  }
  avcodec_send_frame(encoder.get(), nullptr);
  PacketPtr packet = make_packet();
  if (int rc = avcodec_receive_packet(encoder.get(), packet.get()); rc < 0) {
    throw std::runtime_error("MJPEG encoder produced nothing: " + av_error_string(rc));
  }
  return std::string(reinterpret_cast<const char*>(packet->data), static_cast<std::size_t>(packet->size));
}

}  // namespace reelhub::media
