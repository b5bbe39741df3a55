// Pieces of the video upload path that need no server: the streaming multipart parser reading
// a body from disk (parts larger than its window, delimiters split across reads, malformed
// bodies), and the rendition ladder (never above the source).

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "reelhub/core/error.hpp"
#include "reelhub/http/multipart.hpp"
#include "reelhub/media/transcode.hpp"
#include "system.hpp"

namespace reelhub {
namespace {

namespace fs = std::filesystem;

class VideosMultipartFile : public ::testing::Test {
 protected:
  fs::path write_body(const std::string& body) {
    const fs::path path = dir_.path() / "body";
    std::ofstream(path, std::ios::binary) << body;
    return path;
  }
  std::string read(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
  }
  fs::path out() const { return dir_.path() / "file"; }

  testing::TempDir dir_{"reelhub-multipart"};
};

std::string part(const std::string& boundary, const std::string& headers, const std::string& data) {
  return "--" + boundary + "\r\n" + headers + "\r\n\r\n" + data + "\r\n";
}

TEST_F(VideosMultipartFile, StreamsAFileLargerThanTheWindowAndKeepsFields) {
  // Binary content with CRLFs and boundary-like runs, well over the 64 KiB window.
  std::string video;
  for (int i = 0; video.size() < 300 * 1024; ++i) {
    video += "\r\n--b";
    video += static_cast<char>(i % 256);
    video += std::string("\x00\xff data ", 8);
  }
  const std::string body = part("bnd", "Content-Disposition: form-data; name=\"title\"", "My clip") +
                           part("bnd",
                                "Content-Disposition: form-data; name=\"file\"; filename=\"a.mp4\"\r\n"
                                "Content-Type: video/mp4",
                                video) +
                           part("bnd", "Content-Disposition: form-data; name=\"description\"", "Line 1\r\nLine 2") +
                           "--bnd--\r\n";
  const auto form = http::parse_multipart_file(write_body(body), "bnd", "file", out());
  ASSERT_TRUE(form.file);
  EXPECT_EQ(form.file->filename, "a.mp4");
  EXPECT_EQ(form.file->content_type, "video/mp4");
  EXPECT_EQ(form.file->size, video.size());
  EXPECT_EQ(read(out()), video);
  EXPECT_EQ(form.fields.at("title"), "My clip");
  EXPECT_EQ(form.fields.at("description"), "Line 1\r\nLine 2");
}

TEST_F(VideosMultipartFile, DelimiterAcrossTheWindowEdgeIsFound) {
  // Put the closing delimiter of the file part across the 64 KiB read boundary at every offset
  // around it.
  for (std::size_t shift = 0; shift < 12; ++shift) {
    const std::string head = "--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n";
    const std::string data(64 * 1024 - head.size() - 6 + shift, 'x');
    const auto form =
        http::parse_multipart_file(write_body(head + data + "\r\n--b--\r\n"), "b", "file", out());
    ASSERT_TRUE(form.file);
    EXPECT_EQ(form.file->size, data.size()) << shift;
  }
}

TEST_F(VideosMultipartFile, MalformedBodiesAre400AndHugeFields413) {
  const std::vector<std::string> malformed = {
      "",
      "no boundary here",
      "--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nnever closed",
      "--b\r\nX-No-Disposition: 1\r\n\r\nx\r\n--b--\r\n",
      "--bjunk",
  };
  for (const auto& body : malformed) {
    try {
      http::parse_multipart_file(write_body(body), "b", "file", out());
      ADD_FAILURE() << "accepted: " << body;
    } catch (const ApiError& e) {
      EXPECT_EQ(e.code(), ErrorCode::bad_request) << body;
    }
  }
  const std::string big = part("b", "Content-Disposition: form-data; name=\"title\"", std::string(70000, 't')) + "--b--\r\n";
  try {
    http::parse_multipart_file(write_body(big), "b", "file", out());
    ADD_FAILURE() << "accepted a 70 KB field";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.code(), ErrorCode::payload_too_large);
  }
}

TEST(VideosLadder, NeverAboveTheSource) {
  auto names = [](int side) {
    std::vector<std::string> out;
    for (const auto& rung : media::ladder_for(side)) out.push_back(rung.name);
    return out;
  };
  EXPECT_EQ(names(2160), (std::vector<std::string>{"360p", "720p", "1080p"}));
  EXPECT_EQ(names(1080), (std::vector<std::string>{"360p", "720p", "1080p"}));
  EXPECT_EQ(names(1079), (std::vector<std::string>{"360p", "720p"}));
  EXPECT_EQ(names(480), (std::vector<std::string>{"360p"}));
  EXPECT_EQ(names(360), (std::vector<std::string>{"360p"}));
  EXPECT_EQ(names(241), (std::vector<std::string>{"240p"}));
  EXPECT_EQ(media::ladder_for(241).front().short_side, 240);
}

}  // namespace
}  // namespace reelhub
