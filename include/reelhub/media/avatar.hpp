#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace reelhub::media {

/// Side in pixels of the square JPEG every avatar becomes.
inline constexpr int avatar_side = 256;
/// Largest decoded image accepted (per side and in total), so that a few kilobytes of PNG cannot
/// expand into gigabytes of pixels. 50 MP admits any photo a 5 MB upload realistically holds;
/// decoding one takes about 150 MB and half a second.
inline constexpr int avatar_max_side = 8192;
inline constexpr std::int64_t avatar_max_pixels = 50'000'000;

/// Decodes a PNG or JPEG held in memory, center-crops it to a square, scales it to
/// avatar_side x avatar_side (transparency composited over white) and encodes a fresh JPEG, so
/// no byte the client sent is ever served back. Throws ApiError(unsupported_media_type) for
/// anything that is not a decodable PNG or JPEG within the size caps.
std::string transcode_avatar(std::string_view image);

}  // namespace reelhub::media
