// Live streaming end to end with real clients: ffmpeg publishes over SRT (the OBS stand-in),
// the playlist and segments are read back over HTTP and checked with ffprobe.

#include <gtest/gtest.h>
#include <signal.h>

#include <regex>
#include <thread>

#include "expectations.hpp"
#include "live.hpp"
#include "server_process.hpp"
#include "stack.hpp"
#include "test_database.hpp"
#include "users.hpp"
#include "ws_client.hpp"

namespace reelhub::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

std::size_t count_entries(const std::string& dir) {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++n;
  return n;
}

/// Open descriptors that are files (segments, logs), not sockets: the database pool and HTTP
/// keep-alive connections come and go on their own.
std::size_t count_open_files(const std::string& fd_dir) {
  std::size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(fd_dir)) {
    std::error_code ec;
    const std::string target = std::filesystem::read_symlink(e.path(), ec).string();
    if (!ec && target.rfind("socket:", 0) != 0) ++n;
  }
  return n;
}

class LiveTest : public StackTest {
 protected:
  static void SetUpTestSuite() { start_stack(live_env()); }
  static std::string url(const std::string& path) {
    return "http://127.0.0.1:" + std::to_string(stack().server.port()) + path;
  }
  static std::string with(const std::string& srt_url, const std::string& key, const std::string& value) {
    return std::regex_replace(srt_url, std::regex(key + "=[^&]*"), key + "=" + value);
  }
  /// Refusals of one reason counted by the server so far.
  static double refusals(const std::string& reason) {
    return metric_value(http(), "reelhub_srt_refusals_total{reason=\"" + reason + "\"}");
  }
  /// True when a publisher to `srt_url` is turned away (ffmpeg exits non-zero, quickly).
  static bool refused(const std::string& srt_url) {
    Publisher attempt(srt_url, 3);
    const int code = attempt.process().wait_exit(20s);
    return code != 0;
  }
};

// Acceptance 1 (the live half): publish 10 s → active → a valid playlist of ≤ 2.5 s keyframe-led
// segments whose media sequence advances → the publisher ends → waiting → stop.
TEST_F(LiveTest, PublishedStreamBecomesAPlayableLivePlaylist) {
  const TestUser owner = register_and_login(http(), "live", "streamer");
  const StartedStream s = create_and_start(http(), owner);
  EXPECT_EQ(s.hls_url, "/hls/" + s.id + "/stream.m3u8");
  EXPECT_NE(s.srt_url.find("streamid=" + s.id), std::string::npos) << s.srt_url;
  EXPECT_NE(s.srt_url.find("passphrase="), std::string::npos) << s.srt_url;

  // A viewer follows the stream over the hub: status changes and viewer counts are pushed.
  const TestUser fan = register_and_login(http(), "livefan");
  WsClient ws(stack().server.port());
  authenticate(ws, fan.access_token);
  ws.send({{"type", "subscribe"}, {"topic", "stream:" + s.id}, {"id", "sub"}});
  ws.receive_until("subscribed", "sub");

  Publisher publisher(s.srt_url, 10);
  wait_for_status(http(), owner, s.id, "active");
  const MediaPlaylist first = wait_for_segments(http(), s.hls_url, 2);
  json event = ws.receive_until("stream_status");
  EXPECT_EQ(event.at("data").at("status"), "active") << event;
  // Seed 002's client reads data.type, data.stream_id, data.status and data.count at the top level.
  EXPECT_EQ(event.at("stream_id"), s.id) << event;
  EXPECT_EQ(event.at("status"), "active") << event;
  // Counts are pushed when they change; this test fetching the playlist makes it at least 1.
  do {
    event = ws.receive_until("viewer_count");
  } while (event.at("data").at("viewer_count").get<int>() < 1);
  EXPECT_EQ(event.at("stream_id"), s.id) << event;
  EXPECT_EQ(event.at("count"), event.at("data").at("viewer_count")) << event;
  EXPECT_EQ(first.target_duration, 2);
  for (const PlaylistEntry& e : first.segments) {
    EXPECT_LE(e.duration, 2.5);
    EXPECT_GT(e.duration, 0.5);
    EXPECT_TRUE(is_iso8601_utc(e.program_date_time)) << e.program_date_time;
    EXPECT_EQ(e.uri, "segment_" + std::to_string(e.sequence) + ".ts");
  }

  // The playlist as a player sees it: headers, and ffprobe finds H.264 + AAC through it.
  const HttpResponse playlist = http().get(s.hls_url);
  EXPECT_EQ(playlist.header("Content-Type"), "application/vnd.apple.mpegurl");
  EXPECT_EQ(playlist.header("Cache-Control"), "public, max-age=1");
  EXPECT_EQ(playlist.header("Access-Control-Allow-Origin"), "*");
  const json probe = ffprobe({"-show_entries", "stream=codec_name", url(s.hls_url)});
  std::set<std::string> codecs;
  for (const auto& st : probe.at("streams")) codecs.insert(st.at("codec_name").get<std::string>());
  EXPECT_EQ(codecs, (std::set<std::string>{"h264", "aac"})) << probe;

  // Each segment decodes on its own and starts with a keyframe.
  const std::string segment_path = "/hls/" + s.id + "/" + first.segments.front().uri;
  const HttpResponse segment = http().get(segment_path);
  ASSERT_EQ(segment.status, 200);
  EXPECT_EQ(segment.header("Content-Type"), "video/mp2t");
  EXPECT_NE(segment.header("Cache-Control").find("immutable"), std::string::npos);
  const json frames = ffprobe({"-select_streams", "v", "-show_entries", "frame=key_frame", "-read_intervals", "%+#1",
                               url(segment_path)});
  ASSERT_FALSE(frames.at("frames").empty());
  EXPECT_EQ(frames.at("frames")[0].at("key_frame"), 1);

  // The window slides: with 3 listed, 10 s of 2 s segments moves the media sequence on.
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  MediaPlaylist later = first;
  while (later.media_sequence <= first.media_sequence && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(200ms);
    later = parse_media_playlist(http().get(s.hls_url).body);
  }
  EXPECT_GT(later.media_sequence, first.media_sequence);
  EXPECT_LE(later.segments.size(), 3u);

  // Status while live: the seed fields and the publisher's SRT figures.
  const json status = http().get("/stream/" + s.id + "/status").json();
  EXPECT_EQ(status.at("status"), "active");
  EXPECT_EQ(status.at("ffmpeg_running"), true);
  EXPECT_GE(status.at("hls_files_count").get<int>(), 2);
  EXPECT_GE(status.at("viewer_count").get<int>(), 1) << "this test fetched the playlist";
  EXPECT_TRUE(status.at("ingest").is_object()) << status;
  EXPECT_GT(status.at("ingest").at("packets_received").get<int>(), 0) << status;
  const std::string metrics = http().get("/metrics").body;
  EXPECT_NE(metrics.find("reelhub_live_rtt_ms{stream=\"" + s.id + "\"}"), std::string::npos);
  EXPECT_NE(metrics.find("reelhub_live_segment_lag_ms{stream=\"" + s.id + "\"}"), std::string::npos);

  // The publisher finishes; the stream waits for it to come back.
  EXPECT_EQ(publisher.process().wait_exit(30s), 0) << publisher.output();
  wait_for_status(http(), owner, s.id, "waiting");

  const HttpResponse stopped = http().post_json("/api/streams/" + s.id + "/stop", json::object(), owner.auth());
  ASSERT_EQ(stopped.status, 200) << stopped;
  EXPECT_EQ(stopped.json().at("status"), "stopped");
  EXPECT_EQ(stopped.json().at("message"), "Stream stopped, VOD processing started");
  EXPECT_EQ(http().get(s.hls_url).status, 404) << "a stopped stream has no live playlist";

  // The recording: one MP4 as long as what was published, and a decodable JPEG thumbnail.
  std::vector<json> seen;
  ws.receive_until("recording_ready", nullptr, &seen);
  std::vector<std::string> statuses;
  for (const json& e : seen)
    if (e.at("type") == "stream_status") statuses.push_back(e.at("data").at("status"));
  EXPECT_EQ(statuses, (std::vector<std::string>{"waiting", "stopped"})) << "after active, in order";
  const json recording = wait_for_recording(http(), s.id);
  ASSERT_EQ(recording.at("status"), "ready") << recording;
  const json format = ffprobe({"-show_entries", "format=duration", url("/api/v1/recordings/" + s.id + "/video")});
  EXPECT_NEAR(std::stod(format.at("format").at("duration").get<std::string>()), 10.0, 1.0) << format;
  EXPECT_NEAR(recording.at("duration_seconds").get<double>(), 10.0, 1.0) << recording;
  const json thumb = ffprobe({"-show_entries", "stream=codec_name,width", url("/api/v1/recordings/" + s.id + "/thumbnail")});
  EXPECT_EQ(thumb.at("streams").at(0).at("codec_name"), "mjpeg") << thumb;
}

// Acceptance 2: every wrong publisher is refused at the handshake, with its own reason, while
// the legitimate publisher keeps streaming.
TEST_F(LiveTest, WrongPublishersAreRefusedAtTheHandshake) {
  const TestUser owner = register_and_login(http(), "livegate", "streamer");
  const StartedStream s = create_and_start(http(), owner);
  Publisher legit(s.srt_url, 14);
  wait_for_status(http(), owner, s.id, "active");
  const MediaPlaylist before = wait_for_segments(http(), s.hls_url, 1);

  // The secret is checked by libsrt for streams that could take a publisher: a second started
  // stream (the live one answers "busy" before any key is looked at).
  const StartedStream other = create_and_start(http(), owner);
  const json idle = http().post_json("/api/streams", {{"name", "idle"}}, owner.auth()).json();

  const double bad_secret = refusals("bad_secret"), no_secret = refusals("no_secret"),
               unknown = refusals("unknown_stream"), not_started = refusals("not_started"), busy = refusals("busy");
  EXPECT_TRUE(refused(with(other.srt_url, "passphrase", "wrong-secret-0123456789")));
  EXPECT_TRUE(refused(std::regex_replace(other.srt_url, std::regex("&passphrase=[^&]*"), "")));
  EXPECT_TRUE(refused(with(s.srt_url, "streamid", "00000000-0000-4000-8000-000000000000")));
  EXPECT_TRUE(refused(with(s.srt_url, "streamid", idle.at("stream_id").get<std::string>())));
  EXPECT_TRUE(refused(s.srt_url)) << "a second publisher on a live stream";
  EXPECT_TRUE(eventually([&] { return refusals("bad_secret") == bad_secret + 1; })) << "libsrt logs it asynchronously";
  EXPECT_TRUE(eventually([&] { return refusals("no_secret") == no_secret + 1; }));
  EXPECT_EQ(refusals("unknown_stream"), unknown + 1);
  EXPECT_EQ(refusals("not_started"), not_started + 1);
  EXPECT_EQ(refusals("busy"), busy + 1);
  EXPECT_EQ(http().get("/api/streams/" + other.id, owner.auth()).json().at("status"), "waiting");

  // The legitimate publisher never noticed: still active, and its playlist keeps growing.
  EXPECT_EQ(http().get("/api/streams/" + s.id, owner.auth()).json().at("status"), "active");
  EXPECT_TRUE(eventually(
      [&] {
        const MediaPlaylist now = parse_media_playlist(http().get(s.hls_url).body);
        return !now.segments.empty() && now.segments.back().sequence >= before.segments.back().sequence + 2;
      },
      20s));
  EXPECT_EQ(legit.process().wait_exit(30s), 0) << legit.output();
}

// Acceptance 3: a publisher killed mid-stream → waiting within the stall timeout; publishing
// again continues the same playlist after a discontinuity.
TEST_F(LiveTest, KilledPublisherLeavesTheStreamWaitingAndARepublishContinuesIt) {
  const TestUser owner = register_and_login(http(), "livekill", "streamer");
  const StartedStream s = create_and_start(http(), owner);
  {
    Publisher first(s.srt_url, 30);
    wait_for_status(http(), owner, s.id, "active");
    wait_for_segments(http(), s.hls_url, 2);
    first.process().send_signal(SIGKILL);
    first.process().wait_exit(5s);
  }
  // Stall timeout 2 s (live_env); SRT's own peer-idle detection would take 5 s.
  const json waiting = wait_for_status(http(), owner, s.id, "waiting", 6s);
  EXPECT_NE(waiting.value("status_reason", "").find("stalled"), std::string::npos) << waiting;
  const MediaPlaylist before = parse_media_playlist(http().get(s.hls_url).body);

  Publisher second(s.srt_url, 6);
  wait_for_status(http(), owner, s.id, "active");
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  MediaPlaylist after = before;
  while (std::chrono::steady_clock::now() < deadline &&
         (after.segments.empty() || after.segments.back().sequence < before.segments.back().sequence + 2)) {
    std::this_thread::sleep_for(200ms);
    after = parse_media_playlist(http().get(s.hls_url).body);
  }
  bool discontinuity = false;
  for (const PlaylistEntry& e : after.segments)
    if (e.sequence > before.segments.back().sequence) discontinuity |= e.discontinuity;
  EXPECT_TRUE(discontinuity) << http().get(s.hls_url).body;
  EXPECT_EQ(after.segments.back().sequence, after.media_sequence + after.segments.size() - 1);
  EXPECT_EQ(second.process().wait_exit(30s), 0) << second.output();

  // The recording holds both parts: at least the first part's listed segments plus the 6 s after.
  ASSERT_EQ(http().post_json("/api/streams/" + s.id + "/stop", json::object(), owner.auth()).status, 200);
  const json recording = wait_for_recording(http(), s.id);
  ASSERT_EQ(recording.at("status"), "ready") << recording;
  double first_part = 0;
  for (const PlaylistEntry& e : before.segments) first_part += e.duration;
  EXPECT_GE(recording.at("duration_seconds").get<double>(), first_part + 5.0) << recording;
  const json format = ffprobe({"-show_entries", "format=duration", url("/api/v1/recordings/" + s.id + "/video")});
  EXPECT_GE(std::stod(format.at("format").at("duration").get<std::string>()), first_part + 5.0) << format;
}

// Acceptance 4: random bytes inside a valid SRT session: that session is dropped with a logged
// reason; the server and another live stream carry on.
TEST_F(LiveTest, GarbagePublisherIsDroppedAndOthersContinue) {
  const TestUser owner = register_and_login(http(), "livejunk", "streamer");
  const StartedStream good = create_and_start(http(), owner);
  const StartedStream junk = create_and_start(http(), owner);
  Publisher legit(good.srt_url, 25);
  wait_for_status(http(), owner, good.id, "active");
  const std::string proc = "/proc/" + std::to_string(stack().server.pid());
  std::size_t threads = 0, fds = 0;
  // Twice: the second session must leave no more threads or descriptors behind than the first
  // (the first may start things libsrt creates once).
  for (int round = 0; round < 2; ++round) {
    Publisher garbage({"ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-f", "u8", "-ar", "1000000", "-ac", "1",
                       "-i", "/dev/urandom", "-t", "30", "-c", "copy", "-f", "u8", junk.srt_url + "&pkt_size=1316"});
    wait_for_status(http(), owner, junk.id, "active");
    // Dropped by the server (the publisher would go on for 30 s): nothing decodable arrived.
    const json dropped = wait_for_status(http(), owner, junk.id, "waiting", 15s);
    EXPECT_NE(dropped.value("status_reason", "").find("no audio or video"), std::string::npos) << dropped;
    EXPECT_NE(garbage.process().wait_exit(10s), 0) << "the publisher saw its connection closed";
    if (round == 0) {
      threads = count_entries(proc + "/task");
      fds = count_open_files(proc + "/fd");
    }
  }
  EXPECT_TRUE(eventually([&] { return count_entries(proc + "/task") <= threads && count_open_files(proc + "/fd") <= fds; }))
      << "threads " << threads << " -> " << count_entries(proc + "/task") << ", open files " << fds << " -> "
      << count_open_files(proc + "/fd");
  // Info lines reach the log file within a second (stdio's buffer, flushed every second).
  EXPECT_TRUE(eventually([&] {
    return stack().server.log().find("live " + junk.id + ": publisher from 127.0.0.1 gone: no audio or video") !=
           std::string::npos;
  }));
  EXPECT_EQ(http().get("/api/streams/" + good.id, owner.auth()).json().at("status"), "active");
  const MediaPlaylist p = wait_for_segments(http(), good.hls_url, 2);
  EXPECT_FALSE(p.segments.empty());
  EXPECT_EQ(legit.process().wait_exit(30s), 0) << legit.output();
}

// The API around the stream: roles, ownership, the secret only for the owner, public lists.
TEST_F(LiveTest, ViewersAreCountedPerAddressWhateverTheirUserAgent) {
  const TestUser owner = register_and_login(http(), "liveua", "streamer");
  const StartedStream stream = create_and_start(http(), owner);
  // Before the first segment the playlist is 404, but the fetch still counts as a viewer.
  for (int i = 0; i < 50; ++i) {
    const auto res = http().get("/hls/" + stream.id + "/stream.m3u8", {{"User-Agent", "player-" + std::to_string(i)}});
    ASSERT_EQ(res.status, 404) << res;
  }
  const auto status = http().get("/stream/" + stream.id + "/status");
  ASSERT_EQ(status.status, 200) << status;
  EXPECT_EQ(status.json().at("viewer_count"), 1) << "50 user agents from one address are one viewer: " << status;
}

TEST_F(LiveTest, OnlyStreamersCreateAndOnlyOwnersControlOrSeeTheSecret) {
  const TestUser owner = register_and_login(http(), "liveown", "streamer");
  const TestUser viewer = register_and_login(http(), "liveview", "viewer");
  EXPECT_TRUE(is_api_error(http().post_json("/api/streams", {{"name", "x"}}, viewer.auth()), 403));
  EXPECT_TRUE(is_api_error(http().post_json("/api/streams", {{"title", "no name"}}, owner.auth()), 422));
  const HttpResponse created = http().post_json("/api/streams", {{"name", "Mine"}, {"description", "d"}}, owner.auth());
  ASSERT_EQ(created.status, 201) << created;
  const json c = created.json();
  for (const char* field : {"stream_id", "name", "title", "description", "user_id", "username", "status", "created_at"})
    EXPECT_TRUE(c.contains(field)) << field;
  EXPECT_EQ(c.at("status"), "created");
  EXPECT_EQ(c.at("username"), owner.username);
  const std::string id = c.at("stream_id");

  EXPECT_TRUE(is_api_error(http().post_json("/api/streams/" + id + "/stop", json::object(), owner.auth()), 409));
  EXPECT_TRUE(is_api_error(http().post_json("/api/streams/" + id + "/start", json::object(), viewer.auth()), 403));
  ASSERT_EQ(http().post_json("/api/streams/" + id + "/start", json::object(), owner.auth()).status, 200);
  const json mine = http().get("/api/streams/" + id, owner.auth()).json();
  EXPECT_TRUE(mine.contains("srt_url"));
  for (const char* field : {"port", "start_time", "viewer_count", "duration_seconds"}) EXPECT_TRUE(mine.contains(field)) << field;
  const json theirs = http().get("/api/streams/" + id, viewer.auth()).json();
  EXPECT_FALSE(theirs.contains("srt_url")) << "the secret is the owner's";
  EXPECT_EQ(theirs.dump().find(mine.at("srt_url").get<std::string>().substr(mine.at("srt_url").get<std::string>().find("passphrase="))), std::string::npos);

  const json listed = http().get("/api/streams?status=waiting", owner.auth()).json();
  EXPECT_EQ(listed.at("total"), 1);
  EXPECT_EQ(listed.at("streams")[0].at("stream_id"), id);
  EXPECT_EQ(http().get("/api/streams", viewer.auth()).json().at("total"), 0) << "a viewer has no streams";
  EXPECT_TRUE(is_api_error(http().get("/api/streams?status=bogus", owner.auth()), 422));
  EXPECT_TRUE(is_api_error(http().get("/api/streams/not-a-uuid", owner.auth()), 404));
  EXPECT_TRUE(is_api_error(http().get("/hls/" + id + "/segment_x.ts"), 404));
  EXPECT_TRUE(is_api_error(http().get("/hls/" + id + "/..%2F..%2Fetc%2Fpasswd"), 404));

  EXPECT_TRUE(is_api_error(http().del("/api/streams/" + id, viewer.auth()), 403));
  const HttpResponse deleted = http().del("/api/streams/" + id, owner.auth());
  ASSERT_EQ(deleted.status, 200) << deleted;
  EXPECT_EQ(deleted.json().at("message"), "Stream deleted successfully");
  EXPECT_TRUE(is_api_error(http().get("/api/streams/" + id, owner.auth()), 404));
}

// Acceptance 5: SIGKILL the server while a stream is live. The next start-up reopens the stream
// as waiting (the publisher may come back), the idle timeout stops it, and the segments already
// on disk are handed over for the recording.
TEST(LiveRestartTest, KilledServerLeavesNoStreamActiveForeverAndItsSegmentsAreRecorded) {
  TestDatabase db;
  TempDir media("reelhub-live-media");
  auto env = live_env({{"REELHUB_LIVE_WAITING_TIMEOUT_SECONDS", "3"}});
  std::string id;
  TestUser owner;
  {
    ServerProcess first(ServerOptions{db.url(), env, std::chrono::seconds(60), media.path()});
    owner = register_and_login(first.http(), "livecrash", "streamer");
    const StartedStream s = create_and_start(first.http(), owner);
    id = s.id;
    Publisher publisher(s.srt_url, 30);
    wait_for_status(first.http(), owner, id, "active");
    wait_for_segments(first.http(), s.hls_url, 2);
    first.send_signal(SIGKILL);
    EXPECT_EQ(first.wait_exit(10s), -SIGKILL);
  }
  ASSERT_TRUE(std::filesystem::exists(media.path() / "live" / id / "segment_1.ts"));

  ServerProcess second(ServerOptions{db.url(), env, std::chrono::seconds(60), media.path()});
  log_in(second.http(), owner);  // each server signs with its own secret
  const json stopped = wait_for_status(second.http(), owner, id, "stopped", 20s);
  EXPECT_NE(stopped.value("status_reason", "").find("no publisher"), std::string::npos) << stopped;
  const json recording = wait_for_recording(second.http(), id);
  EXPECT_EQ(recording.at("status"), "ready") << recording;
  EXPECT_GE(recording.at("duration_seconds").get<double>(), 3.5) << "at least the two listed segments";
  second.send_signal(SIGTERM);
  EXPECT_TRUE(exits_cleanly(second));
}

// Acceptance 5, first half: the server restarts right after a stop, while the recording may
// still be processing: the job is in PostgreSQL and the next process finishes it.
TEST(LiveRestartTest, RecordingInterruptedByARestartFinishesAfterIt) {
  TestDatabase db;
  TempDir media("reelhub-live-media");
  const auto env = live_env();
  std::string id;
  TestUser owner;
  {
    ServerProcess first(ServerOptions{db.url(), env, std::chrono::seconds(60), media.path()});
    owner = register_and_login(first.http(), "liverestart", "streamer");
    const StartedStream s = create_and_start(first.http(), owner);
    id = s.id;
    {
      Publisher publisher(s.srt_url, 5);
      wait_for_status(first.http(), owner, id, "active");
      EXPECT_EQ(publisher.process().wait_exit(30s), 0) << publisher.output();
    }
    ASSERT_EQ(first.http().post_json("/api/streams/" + id + "/stop", json::object(), owner.auth()).status, 200);
    first.send_signal(SIGTERM);
    EXPECT_TRUE(exits_cleanly(first));
  }
  ServerProcess second(ServerOptions{db.url(), env, std::chrono::seconds(60), media.path()});
  const json recording = wait_for_recording(second.http(), id);
  EXPECT_EQ(recording.at("status"), "ready") << recording;
  EXPECT_NEAR(recording.at("duration_seconds").get<double>(), 5.0, 1.0) << recording;
}

}  // namespace
}  // namespace reelhub::testing
