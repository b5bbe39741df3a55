// media::transcode_avatar with real images made by the ffmpeg CLI: PNG and JPEG in, a 256x256
// JPEG out; everything else (text, GIF, BMP, truncated or oversized images) is a 415.

#include <gtest/gtest.h>

extern "C" {
#include <libavutil/crc.h>
#include <libavutil/intreadwrite.h>
}

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "reelhub/core/error.hpp"
#include "reelhub/media/avatar.hpp"
#include "system.hpp"

namespace reelhub::media {
namespace {

using reelhub::testing::run_command;

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void write_file(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

class AvatarTest : public ::testing::Test {
 protected:
  /// One frame of the lavfi `source`, encoded into `name` (the extension picks the format).
  std::string make_image(const std::string& name, const std::string& source) {
    const auto path = dir_.path() / name;
    run_command({"ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", source, "-frames:v", "1", path.string()});
    return read_file(path);
  }

  /// "codec_name=...\nwidth=...\nheight=...\n" of an encoded image.
  std::string probe(const std::string& image) {
    const auto path = dir_.path() / "probe.jpg";
    write_file(path, image);
    return run_command({"ffprobe", "-v", "error", "-show_entries", "stream=codec_name,width,height", "-of",
                        "default=noprint_wrappers=1", path.string()});
  }

  /// The decoded picture as packed RGB24, decoded by the ffmpeg CLI (not by the code under test).
  std::string rgb_pixels(const std::string& image) {
    const auto in = dir_.path() / "pixels.jpg";
    const auto out = dir_.path() / "pixels.rgb";
    write_file(in, image);
    run_command(
        {"ffmpeg", "-v", "error", "-y", "-i", in.string(), "-f", "rawvideo", "-pix_fmt", "rgb24", out.string()});
    return read_file(out);
  }

  static void expect_rejected(const std::string& bytes, const char* what) {
    try {
      transcode_avatar(bytes);
      ADD_FAILURE() << what << " was accepted";
    } catch (const ApiError& e) {
      EXPECT_EQ(e.code(), ErrorCode::unsupported_media_type) << what << ": " << e.what();
    }
  }

  reelhub::testing::TempDir dir_{"reelhub-avatar-test"};
};

struct Rgb {
  int r, g, b;
};

Rgb pixel_at(const std::string& rgb, int x, int y) {
  const std::size_t i = (static_cast<std::size_t>(y) * avatar_side + static_cast<std::size_t>(x)) * 3;
  return {static_cast<unsigned char>(rgb[i]), static_cast<unsigned char>(rgb[i + 1]),
          static_cast<unsigned char>(rgb[i + 2])};
}

/// JPEG compression moves colours a little; "red" means clearly red.
bool is_red(Rgb c) { return c.r > 200 && c.g < 60 && c.b < 60; }
bool is_blue(Rgb c) { return c.b > 200 && c.r < 60 && c.g < 60; }
bool is_white(Rgb c) { return c.r > 240 && c.g > 240 && c.b > 240; }

constexpr const char* kJpeg256 = "codec_name=mjpeg\nwidth=256\nheight=256\n";

TEST_F(AvatarTest, PngAndJpegBecome256SquareJpegs) {
  for (const char* name : {"landscape.png", "portrait.jpg", "tiny.png"}) {
    const std::string source = std::string(name) == "tiny.png"       ? "testsrc=size=31x17"
                               : std::string(name) == "portrait.jpg" ? "testsrc=size=480x640"
                                                                     : "testsrc=size=640x480";
    const std::string avatar = transcode_avatar(make_image(name, source));
    ASSERT_GE(avatar.size(), 4u) << name;
    EXPECT_EQ(avatar.substr(0, 2), "\xFF\xD8") << name << ": starts with a JPEG SOI marker";
    EXPECT_EQ(probe(avatar), kJpeg256) << name;
  }
}

TEST_F(AvatarTest, CropsTheCenterSquare) {
  // Red | blue | red, 3:1 wide: the center square is the blue third.
  const std::string image = make_image(
      "bands.png", "color=red:size=100x100[a];color=blue:size=100x100[b];color=red:size=100x100[c];"
                   "[a][b][c]hstack=inputs=3");
  const std::string rgb = rgb_pixels(transcode_avatar(image));
  ASSERT_EQ(rgb.size(), std::size_t{avatar_side} * avatar_side * 3);
  for (int x : {4, 128, 251}) EXPECT_TRUE(is_blue(pixel_at(rgb, x, 128))) << "x=" << x;
}

TEST_F(AvatarTest, TransparencyBecomesWhite) {
  const std::string image = make_image("clear.png", "color=c=black@0.0:size=64x64,format=rgba");
  const std::string rgb = rgb_pixels(transcode_avatar(image));
  EXPECT_TRUE(is_white(pixel_at(rgb, 128, 128)));
}

TEST_F(AvatarTest, FollowsExifOrientation) {
  // Left half red, right half blue, tagged "rotate 90 degrees clockwise" (orientation 6), as
  // phones store portrait photos: the avatar must show red on top.
  std::string jpeg = make_image("halves.jpg", "color=red:size=64x128[a];color=blue:size=64x128[b];[a][b]hstack");
  const std::string tiff = std::string("II*\0\x08\0\0\0", 8) +                  // little-endian TIFF, IFD at 8
                           std::string("\x01\0", 2) +                            // one entry
                           std::string("\x12\x01\x03\0\x01\0\0\0\x06\0\0\0", 12) +  // Orientation SHORT 6
                           std::string("\0\0\0\0", 4);                           // no next IFD
  const std::string exif = std::string("Exif\0\0", 6) + tiff;
  const auto length = static_cast<char>(exif.size() + 2);
  jpeg.insert(2, std::string("\xFF\xE1\0", 3) + length + exif);  // APP1 right after SOI
  const std::string rgb = rgb_pixels(transcode_avatar(jpeg));
  EXPECT_TRUE(is_red(pixel_at(rgb, 128, 20)));
  EXPECT_TRUE(is_blue(pixel_at(rgb, 128, 235)));
}

TEST_F(AvatarTest, RejectsWhatIsNotAPngOrJpeg) {
  expect_rejected("", "empty input");
  expect_rejected("hello, I am definitely an image\n", "text");
  expect_rejected("<svg xmlns='http://www.w3.org/2000/svg'/>", "SVG");
  expect_rejected(make_image("x.gif", "testsrc=size=64x64"), "GIF");
  expect_rejected(make_image("x.bmp", "testsrc=size=64x64"), "BMP");
  const std::string png = make_image("whole.png", "testsrc=size=320x240");
  expect_rejected(png.substr(0, png.size() / 2), "truncated PNG");
  expect_rejected(png.substr(0, 40), "PNG header only");
  // An HLS playlist must not make libavformat open other files on our behalf.
  expect_rejected("#EXTM3U\n#EXTINF:1,\n/etc/passwd\n#EXT-X-ENDLIST\n", "playlist");
}

TEST_F(AvatarTest, RejectsOversizedDimensions) {
  expect_rejected(make_image("wide.png", "color=white:size=9000x8"), "9000 pixels wide");

  // A 64x64 PNG whose header claims 30000x30000 (900 MP): refused before any allocation.
  std::string png = make_image("bomb.png", "testsrc=size=64x64");
  ASSERT_EQ(png.substr(12, 4), "IHDR");
  auto* ihdr = reinterpret_cast<std::uint8_t*>(png.data() + 12);
  AV_WB32(ihdr + 4, 30000);
  AV_WB32(ihdr + 8, 30000);
  const std::uint32_t crc = av_crc(av_crc_get_table(AV_CRC_32_IEEE_LE), UINT32_MAX, ihdr, 17) ^ UINT32_MAX;
  AV_WB32(ihdr + 17, crc);
  expect_rejected(png, "PNG claiming 30000x30000");
}

}  // namespace
}  // namespace reelhub::media
