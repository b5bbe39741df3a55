// A real browser plays the live stream: real ffmpeg publishes over SRT, and hls.js in headless
// Chromium (tests/browser/live_playback.mjs, run by node) must see the video element's
// currentTime advance. Parametrised by playlist path and hls.js mode, so that the low-latency
// playlist joins as one more instance.

#include <gtest/gtest.h>

#include <regex>

#include "child_process.hpp"
#include "live.hpp"
#include "stack.hpp"
#include "system.hpp"
#include "users.hpp"

namespace reelhub::testing {
namespace {

using namespace std::chrono_literals;

struct PlaylistCase {
  std::string name;
  std::string path;  // "{id}" stands for the stream id
  bool low_latency = false;
};

class BrowserPlaybackTest : public StackTest, public ::testing::WithParamInterface<PlaylistCase> {
 protected:
  static void SetUpTestSuite() { start_stack(live_env()); }
};

TEST_P(BrowserPlaybackTest, HlsJsInChromiumPlaysThePublishedStream) {
  const PlaylistCase& c = GetParam();
  const TestUser owner = register_and_login(http(), "browser", "streamer");
  const StartedStream s = create_and_start(http(), owner);
  Publisher publisher(s.srt_url, 90);
  wait_for_segments(http(), s.hls_url, 2);
  const std::string playlist = "http://127.0.0.1:" + std::to_string(stack().server.port()) +
                               std::regex_replace(c.path, std::regex(R"(\{id\})"), s.id);

  TempDir dir("reelhub-browser");
  std::vector<std::string> argv{"node", std::string(REELHUB_SOURCE_DIR) + "/tests/browser/live_playback.mjs", playlist};
  if (c.low_latency) argv.push_back("--low-latency");
  ChildProcess player(argv, dir.path() / "player.log");
  // The script gives up by itself within ~45 s (start, then 4 s of media); this bounds a hang.
  const int code = player.wait_exit(120s);
  EXPECT_EQ(code, 0) << player.output() << "\n--- publisher:\n" << publisher.output();
}

INSTANTIATE_TEST_SUITE_P(Playlists, BrowserPlaybackTest,
                         ::testing::Values(PlaylistCase{"MpegTs", "/hls/{id}/stream.m3u8", false},
                                           PlaylistCase{"LowLatency", "/hls/{id}/ll.m3u8", true}),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace reelhub::testing
