#pragma once
// Still-picture helpers shared by avatars, recording and video thumbnails: allocate, convert/scale with
// swscale, encode one JPEG.

#include <string>

#include "reelhub/media/ffmpeg.hpp"

namespace reelhub::media {

/// A frame of `format` and size with its own buffers. Throws std::bad_alloc.
FramePtr allocate_picture(AVPixelFormat format, int width, int height);

/// Converts (and scales) `src` into `dst`, whose size and format are already set. False when
/// swscale cannot convert between the two formats.
bool convert_picture(const AVFrame& src, AVFrame& dst, int flags);

/// Encodes one picture as a JPEG with MJPEG quantiser `qscale` (2 best .. 31). The picture is
/// YUVJ420P (full range: avatars) or YUV420P (video range, e.g. a video frame for a thumbnail).
/// Throws std::runtime_error when the encoder fails.
std::string encode_jpeg(AVFrame& picture, int qscale);

}  // namespace reelhub::media
