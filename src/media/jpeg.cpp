#include <stdexcept>

#include "reelhub/media/ffmpeg.hpp"

namespace reelhub::media {

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
