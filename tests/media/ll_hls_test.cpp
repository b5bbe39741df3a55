// Low-Latency HLS end to end: ffmpeg publishes over SRT, the LL-HLS playlist (/hls/{id}/ll.m3u8),
// its parts, init and fMP4 segments are read back over HTTP: parts, preload hint and server
// control; blocking reloads; parts streamed while written; delta updates; ffprobe reading the
// fMP4 stream; bad `_HLS_*` values; and a blocked request answered when the stream stops, and
// when the server drains.

#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <future>
#include <regex>
#include <thread>

#include "expectations.hpp"
#include "live.hpp"
#include "stack.hpp"
#include "users.hpp"
#include "ws_client.hpp"

namespace reelhub::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

/// The part a playlist's EXT-X-PRELOAD-HINT names: (media sequence number, part index).
struct Hint {
  std::uint64_t msn = 0;
  std::uint64_t part = 0;
  std::string uri;
};
std::optional<Hint> preload_hint(const std::string& playlist) {
  static const std::regex hint(R"re(#EXT-X-PRELOAD-HINT:TYPE=PART,URI="(part_(\d+)_(\d+)\.m4s)")re");
  std::smatch m;
  if (!std::regex_search(playlist, m, hint)) return std::nullopt;
  return Hint{std::stoull(m[2]), std::stoull(m[3]), m[1]};
}

/// The playlist lists `uri` as a part (an EXT-X-PART line, not only the preload hint).
bool lists_part(const std::string& playlist, const std::string& uri) {
  return std::regex_search(playlist, std::regex("#EXT-X-PART:DURATION=[0-9.]+,URI=\"" + uri + "\""));
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

class LowLatencyHlsTest : public StackTest {
 protected:
  // 1 s segments of 0.2 s parts (the publisher's GOP is 1 s); 6 segments in the MPEG-TS window,
  // so 12 in the LL-HLS one and delta updates have segments to skip.
  static void SetUpTestSuite() {
    start_stack(live_env({{"REELHUB_LIVE_SEGMENT_MS", "1000"},
                          {"REELHUB_LIVE_PART_MS", "200"},
                          {"REELHUB_LIVE_WINDOW_SEGMENTS", "6"}}));
  }
  /// GETs the LL playlist until `ready` accepts it.
  static std::string wait_for_playlist(const std::string& ll_url, const std::function<bool(const std::string&)>& ready,
                                       std::chrono::milliseconds within = 30s) {
    const auto deadline = Clock::now() + within;
    std::string last;
    while (Clock::now() < deadline) {
      const HttpResponse res = http().get(ll_url);
      last = std::to_string(res.status) + " " + res.body;
      if (res.status == 200 && ready(res.body)) return res.body;
      std::this_thread::sleep_for(100ms);
    }
    throw std::runtime_error("LL playlist not as expected in time; last answer: " + last);
  }
};

TEST_F(LowLatencyHlsTest, PartsBlockingReloadsDeltaUpdatesAndTheFmp4Stream) {
  const TestUser owner = register_and_login(http(), "llstreamer", "streamer");
  const StartedStream s = create_and_start(http(), owner);
  const std::string ll_url = "/hls/" + s.id + "/ll.m3u8";
  const json stream = http().get("/api/streams/" + s.id, owner.auth()).json();
  EXPECT_EQ(stream.at("hls_ll_url"), ll_url) << stream;
  EXPECT_EQ(stream.at("hls_url"), s.hls_url) << "the MPEG-TS playlist stays where it was";

  Publisher publisher(s.srt_url, 25);

  // A playlist with parts, a preload hint, server control and the init segment.
  const std::string first = wait_for_playlist(ll_url, [](const std::string& p) { return count(p, "#EXT-X-PART:") >= 3; });
  EXPECT_NE(first.find("#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,CAN-SKIP-UNTIL=6.0,PART-HOLD-BACK=0.600"),
            std::string::npos)
      << first;
  EXPECT_NE(first.find("#EXT-X-PART-INF:PART-TARGET=0.200"), std::string::npos) << first;
  EXPECT_NE(first.find("#EXT-X-MAP:URI=\"init_1.mp4\""), std::string::npos) << first;
  EXPECT_NE(first.find(",INDEPENDENT=YES"), std::string::npos) << "a part that starts with a keyframe: " << first;
  ASSERT_TRUE(preload_hint(first)) << first;
  const HttpResponse plain = http().get(ll_url);
  EXPECT_EQ(plain.header("Content-Type"), "application/vnd.apple.mpegurl");
  EXPECT_EQ(plain.header("Cache-Control"), "public, max-age=1");
  // The MPEG-TS playlist lists its first segment only once a whole one is cut, after the first parts.
  wait_for_segments(http(), s.hls_url, 1);
  EXPECT_EQ(http().get(s.hls_url).header("Cache-Control"), "public, max-age=1");

  // A blocking reload for the hinted part: answered once that part is listed, and not before.
  {
    const std::string before = http().get(ll_url).body;
    const Hint next = *preload_hint(before);
    ASSERT_FALSE(lists_part(before, next.uri)) << "only hinted yet";
    const auto asked = Clock::now();
    const HttpResponse blocked = http().get(ll_url + "?_HLS_msn=" + std::to_string(next.msn) +
                                            "&_HLS_part=" + std::to_string(next.part));
    const auto waited = Clock::now() - asked;
    ASSERT_EQ(blocked.status, 200) << blocked;
    EXPECT_NE(blocked.body.find("#EXT-X-PART:DURATION="), std::string::npos);
    EXPECT_TRUE(lists_part(blocked.body, next.uri)) << "the part asked for is listed: " << blocked.body;
    const Hint after = *preload_hint(blocked.body);
    EXPECT_TRUE(after.msn > next.msn || after.part == next.part + 1)
        << "answered as soon as that part was listed, before the next one: " << blocked.body;
    EXPECT_LT(waited, 1s) << "a 0.2 s part";
    EXPECT_EQ(blocked.header("Cache-Control"), "public, max-age=6");
  }

  // The hinted part, asked for before it exists: streamed (chunked) while written, and the same
  // bytes as the finished part.
  {
    const Hint next = *preload_hint(http().get(ll_url).body);
    const std::string path = "/hls/" + s.id + "/" + next.uri;
    const HttpResponse streamed = http().get(path);
    ASSERT_EQ(streamed.status, 200) << streamed;
    EXPECT_EQ(streamed.header("Transfer-Encoding"), "chunked");
    EXPECT_EQ(streamed.header("Content-Type"), "video/mp4");
    EXPECT_FALSE(streamed.body.empty());
    const HttpResponse finished = http().get(path);
    ASSERT_EQ(finished.status, 200);
    EXPECT_EQ(finished.header("Content-Length"), std::to_string(finished.body.size()));
    EXPECT_NE(finished.header("Cache-Control").find("immutable"), std::string::npos);
    EXPECT_EQ(finished.body, streamed.body);
    EXPECT_TRUE(finished.body.find("moof") != std::string::npos && finished.body.find("mdat") != std::string::npos);
  }

  // Bad `_HLS_*` values, and a part far ahead of the live edge: 400 JSON.
  {
    const Hint next = *preload_hint(http().get(ll_url).body);
    const std::vector<std::string> queries = {"_HLS_msn=abc", "_HLS_msn=-1", "_HLS_part=1", "_HLS_msn=1&_HLS_part=x",
                                    "_HLS_skip=NO", "_HLS_msn=" + std::to_string(next.msn + 100),
                                    "_HLS_msn=" + std::to_string(next.msn) + "&_HLS_part=" +
                                        std::to_string(next.part + 20)};
    for (const std::string& query : queries) {
      EXPECT_TRUE(is_api_error(http().get(ll_url + "?" + query), 400)) << query;
    }
  }

  // A delta update once more than the skip boundary (6 s) is listed.
  {
    const std::string full =
        wait_for_playlist(ll_url, [](const std::string& p) { return count(p, "#EXTINF:") >= 9; });
    const std::string delta = http().get(ll_url + "?_HLS_skip=YES").body;
    static const std::regex skip(R"(#EXT-X-SKIP:SKIPPED-SEGMENTS=(\d+))"), sequence(R"(#EXT-X-MEDIA-SEQUENCE:(\d+))"),
        first_listed(R"(\nsegment_(\d+)\.m4s)");
    std::smatch m;
    ASSERT_TRUE(std::regex_search(delta, m, skip)) << delta;
    const std::uint64_t skipped = std::stoull(m[1]);
    EXPECT_GE(skipped, 2u) << delta;
    ASSERT_TRUE(std::regex_search(delta, m, sequence));
    const std::uint64_t media_sequence = std::stoull(m[1]);
    ASSERT_TRUE(std::regex_search(delta, m, first_listed));
    EXPECT_EQ(std::stoull(m[1]), media_sequence + skipped) << "the first segment listed follows those skipped";
    const Hint hint = *preload_hint(delta);
    const std::uint64_t open_segment = media_sequence + skipped + count(delta, "#EXTINF:");
    EXPECT_TRUE(hint.msn == open_segment || (hint.msn == open_segment + 1 && hint.part == 0)) << delta;
    EXPECT_LT(delta.find("#EXT-X-MAP"), delta.find("#EXTINF")) << "the map comes before the first listed segment";
    EXPECT_LT(delta.size(), full.size());
  }

  // ffprobe reads the fMP4 stream: init + finished segments, H.264 and AAC, frames decodable.
  {
    const std::string playlist = http().get(ll_url).body;
    static const std::regex segment_uri(R"(\n(segment_\d+\.m4s)\n)");
    std::vector<std::string> segments;
    for (std::sregex_iterator it(playlist.begin(), playlist.end(), segment_uri), end; it != end; ++it)
      segments.push_back((*it)[1]);
    ASSERT_GE(segments.size(), 3u) << playlist;
    TempDir dir("reelhub-llhls");
    const auto file = dir.path() / "stream.mp4";
    {
      std::ofstream out(file, std::ios::binary);
      const HttpResponse init = http().get("/hls/" + s.id + "/init_1.mp4");
      ASSERT_EQ(init.status, 200);
      EXPECT_EQ(init.header("Content-Type"), "video/mp4");
      out << init.body;
      for (std::size_t i = segments.size() - 3; i < segments.size(); ++i) {
        const HttpResponse segment = http().get("/hls/" + s.id + "/" + segments[i]);
        ASSERT_EQ(segment.status, 200) << segments[i];
        out << segment.body;
      }
    }
    const json probe = ffprobe({"-show_entries", "stream=codec_name", file.string()});
    std::set<std::string> codecs;
    for (const auto& st : probe.at("streams")) codecs.insert(st.at("codec_name").get<std::string>());
    EXPECT_EQ(codecs, (std::set<std::string>{"h264", "aac"})) << probe;
    const json frames = ffprobe({"-select_streams", "v", "-count_frames", "-show_entries", "stream=nb_read_frames",
                                 file.string()});
    EXPECT_GE(std::stoi(frames.at("streams")[0].at("nb_read_frames").get<std::string>()), 60) << "3 s at 25 fps";
  }

  // The server's own measure of ingest-to-listing per part.
  EXPECT_GT(metric_value(http(), "reelhub_live_part_listing_seconds_count"), 10);

  // A request blocked on a part that never comes (the publisher is gone) is answered when the
  // stream stops: the playlist with EXT-X-ENDLIST.
  ASSERT_EQ(publisher.process().wait_exit(60s), 0) << publisher.output();
  wait_for_status(http(), owner, s.id, "waiting");
  const Hint never = *preload_hint(http().get(ll_url).body);
  auto blocked = std::async(std::launch::async, [&] {
    return http().get(ll_url + "?_HLS_msn=" + std::to_string(never.msn) + "&_HLS_part=" + std::to_string(never.part));
  });
  const std::string waiting_metric = "reelhub_live_blocked_reloads{stream=\"" + s.id + "\"}";
  const auto deadline = Clock::now() + 2s;
  while (metric_value(http(), waiting_metric) < 1 && Clock::now() < deadline) std::this_thread::sleep_for(20ms);
  ASSERT_GE(metric_value(http(), waiting_metric), 1) << "the request is waiting";
  const auto stopped_at = Clock::now();
  ASSERT_EQ(http().post_json("/api/streams/" + s.id + "/stop", json::object(), owner.auth()).status, 200);
  ASSERT_EQ(blocked.wait_for(5s), std::future_status::ready);
  const HttpResponse answer = blocked.get();
  EXPECT_LT(Clock::now() - stopped_at, 2s);
  EXPECT_EQ(answer.status, 200) << answer;
  EXPECT_NE(answer.body.find("#EXT-X-ENDLIST"), std::string::npos) << answer.body;
  EXPECT_EQ(answer.body.find("PRELOAD-HINT"), std::string::npos) << answer.body;
}

// SIGTERM while a reload is blocked: the drain answers it at once (503, Retry-After), rather than
// leaving it to its own deadline. Its own server, since the case ends it; 2 s segments make that
// deadline 6 s, past the 1 s grace period, so a request left waiting would be cut off unanswered.
TEST(LowLatencyHlsDrainTest, ABlockedReloadIsAnsweredWhenTheServerDrains) {
  Stack stack(live_env({{"REELHUB_LIVE_SEGMENT_MS", "2000"}, {"REELHUB_SHUTDOWN_GRACE_SECONDS", "1"}}));
  const HttpClient client = stack.http();
  const TestUser owner = register_and_login(client, "lldrain", "streamer");
  const StartedStream s = create_and_start(client, owner);
  // Nothing is published, so the first part never comes and only the drain can answer.
  auto blocked = std::async(std::launch::async, [&] {
    return client.get("/hls/" + s.id + "/ll.m3u8?_HLS_msn=0&_HLS_part=0");
  });
  const std::string waiting_metric = "reelhub_live_blocked_reloads{stream=\"" + s.id + "\"}";
  const auto deadline = Clock::now() + 5s;
  while (metric_value(client, waiting_metric) < 1 && Clock::now() < deadline) std::this_thread::sleep_for(20ms);
  ASSERT_GE(metric_value(client, waiting_metric), 1) << "the request is waiting";

  const auto signalled = Clock::now();
  stack.server.send_signal(SIGTERM);
  ASSERT_EQ(blocked.wait_for(10s), std::future_status::ready);
  HttpResponse answer;
  ASSERT_NO_THROW(answer = blocked.get()) << "the blocked request was cut off unanswered";
  EXPECT_LT(Clock::now() - signalled, 1s) << "answered by the drain, not at the grace period's end";
  EXPECT_TRUE(is_api_error(answer, 503)) << answer;
  EXPECT_EQ(answer.header("Retry-After"), "1");
  EXPECT_TRUE(exits_cleanly(stack.server, 15s));
}

}  // namespace
}  // namespace reelhub::testing
