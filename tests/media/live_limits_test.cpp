// What one publisher, one user and the server may cost (issue 9, item 5), against a server with
// small limits: a publisher above the bitrate limit is dropped with its reason shown to the owner
// and what it published kept; starts past the per-user and per-server stream limits are refused.

#include <gtest/gtest.h>

#include "expectations.hpp"
#include "live.hpp"
#include "stack.hpp"
#include "users.hpp"
#include "ws_client.hpp"

namespace reelhub::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr int kMaxBitrateKbps = 1000;

class LiveLimitsTest : public StackTest {
 protected:
  static void SetUpTestSuite() {
    start_stack(live_env({{"REELHUB_LIVE_MAX_BITRATE_KBPS", std::to_string(kMaxBitrateKbps)},
                          {"REELHUB_LIVE_MAX_STREAMS_PER_USER", "1"},
                          {"REELHUB_LIVE_MAX_STREAMS", "2"}}));
  }
  static HttpResponse start(const TestUser& owner, const std::string& id) {
    return http().post_json("/api/streams/" + id + "/start", json::object(), owner.auth());
  }
  static HttpResponse stop(const TestUser& owner, const std::string& id) {
    return http().post_json("/api/streams/" + id + "/stop", json::object(), owner.auth());
  }
  static std::string create(const TestUser& owner) {
    const HttpResponse created = http().post_json("/api/streams", {{"name", "limited"}}, owner.auth());
    EXPECT_EQ(created.status, 201) << created;
    return created.json().at("stream_id");
  }
};

// ffmpeg sends a constant 2.5 Mbit/s (x264 CBR with filler) to a server allowing 1000 kbit/s:
// dropped within the first seconds (it would publish for 30), the reason in the status and the
// log, the stream back to waiting, and the part it published kept for the recording.
TEST_F(LiveLimitsTest, PublisherAboveTheBitrateLimitIsDroppedAndWhatItSentIsKept) {
  const TestUser owner = register_and_login(http(), "limitrate", "streamer");
  const StartedStream s = create_and_start(http(), owner);
  const double drops = metric_value(http(), "reelhub_live_limit_drops_total{limit=\"bitrate\"}");
  Publisher greedy({"ffmpeg", "-hide_banner", "-loglevel", "error", "-re",
                    "-f", "lavfi", "-i", "testsrc=size=640x360:rate=25",
                    "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100", "-t", "30",
                    "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-pix_fmt", "yuv420p",
                    "-g", "25", "-b:v", "2500k", "-minrate", "2500k", "-maxrate", "2500k", "-bufsize", "1250k",
                    "-x264-params", "nal-hrd=cbr", "-c:a", "aac", "-b:a", "64k",
                    "-f", "mpegts", s.srt_url + "&pkt_size=1316"});

  json status;
  ASSERT_TRUE(eventually(
      [&] {
        status = http().get("/stream/" + s.id + "/status").json();
        return status.at("status_reason").is_string() &&
               status.at("status_reason").get<std::string>().find("bitrate limit") != std::string::npos;
      },
      20s))
      << status;
  EXPECT_EQ(status.at("status"), "waiting") << status;
  EXPECT_EQ(status.at("ffmpeg_running"), false) << status;
  EXPECT_NE(status.at("status_reason").get<std::string>().find("the limit is 1000"), std::string::npos) << status;
  EXPECT_NE(greedy.process().wait_exit(15s), 0) << "the publisher saw its connection closed";
  // Info lines reach the log file within a second (stdio's buffer, flushed every second).
  EXPECT_TRUE(eventually([&] {
    return stack().server.log().find("live " + s.id + ": publisher from 127.0.0.1 gone: bitrate limit") !=
           std::string::npos;
  }));
  EXPECT_EQ(metric_value(http(), "reelhub_live_limit_drops_total{limit=\"bitrate\"}"), drops + 1);
  // The owner sees the reason on the stream itself too.
  const json stream = http().get("/api/streams/" + s.id, owner.auth()).json();
  EXPECT_NE(stream.value("status_reason", "").find("bitrate limit"), std::string::npos) << stream;

  // Dropped about 2 s in, after the stream's parameters were read: its open segment was kept,
  // and the recording is made from it.
  EXPECT_GE(status.at("hls_files_count").get<int>(), 1) << status;
  ASSERT_EQ(stop(owner, s.id).status, 200);
  const json recording = wait_for_recording(http(), s.id);
  EXPECT_EQ(recording.at("status"), "ready") << recording;
  EXPECT_GT(recording.at("duration_seconds").get<double>(), 0.5) << recording;
}

// live_max_streams_per_user = 1: a second start by the same owner is refused (409, the stream
// stays created) until the first stream stops.
TEST_F(LiveLimitsTest, SecondStartedStreamOfOneOwnerIsRefusedUntilTheFirstStops) {
  const TestUser owner = register_and_login(http(), "limituser", "streamer");
  const std::string first = create(owner), second = create(owner);
  ASSERT_EQ(start(owner, first).status, 200);
  const HttpResponse refused = start(owner, second);
  ASSERT_TRUE(is_api_error(refused, 409)) << refused;
  EXPECT_NE(refused.json().at("message").get<std::string>().find("stop one to start another"), std::string::npos)
      << refused;
  const json after = http().get("/api/streams/" + second, owner.auth()).json();
  EXPECT_EQ(after.at("status"), "created") << after;
  EXPECT_FALSE(after.contains("srt_url")) << "no publisher may connect to it";
  EXPECT_EQ(start(owner, first).status, 200) << "starting the started stream again is not a second stream";

  ASSERT_EQ(stop(owner, first).status, 200);
  EXPECT_EQ(start(owner, second).status, 200) << "room again once the first stopped";
  ASSERT_EQ(stop(owner, second).status, 200);
}

// live_max_streams = 2: the third started stream on the server is refused (503 with
// Retry-After, the stream stays created) until one stops.
TEST_F(LiveLimitsTest, StartPastTheServersStreamLimitIsRefusedUntilOneStops) {
  std::vector<TestUser> owners;
  std::vector<std::string> ids;
  for (const char* name : {"limitsrv1", "limitsrv2", "limitsrv3"}) {
    owners.push_back(register_and_login(http(), name, "streamer"));
    ids.push_back(create(owners.back()));
  }
  ASSERT_EQ(start(owners[0], ids[0]).status, 200);
  ASSERT_EQ(start(owners[1], ids[1]).status, 200);
  const HttpResponse refused = start(owners[2], ids[2]);
  ASSERT_TRUE(is_api_error(refused, 503)) << refused;
  EXPECT_FALSE(refused.header("Retry-After").empty()) << refused;
  EXPECT_EQ(http().get("/api/streams/" + ids[2], owners[2].auth()).json().at("status"), "created");

  ASSERT_EQ(stop(owners[0], ids[0]).status, 200);
  EXPECT_EQ(start(owners[2], ids[2]).status, 200);
  ASSERT_EQ(stop(owners[1], ids[1]).status, 200);
  ASSERT_EQ(stop(owners[2], ids[2]).status, 200);
}

}  // namespace
}  // namespace reelhub::testing
