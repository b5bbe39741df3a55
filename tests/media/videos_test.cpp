// Uploaded videos end to end: clips made by the ffmpeg CLI are uploaded to the real server,
// transcoded to HLS, checked with ffprobe, served with Range/ETag, liked, commented, viewed, and
// deleted. Bad uploads and a server killed mid-transcode must leave everything working.

#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "expectations.hpp"
#include "live.hpp"
#include "reelhub/storage/s3_store.hpp"
#include "stack.hpp"
#include "system.hpp"
#include "test_storage.hpp"
#include "users.hpp"
#include "ws_client.hpp"

namespace reelhub::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

constexpr std::size_t kUploadLimit = 32 << 20;
constexpr int kMaxDurationSeconds = 30;  // above every clip the suite transcodes

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

struct Clip {
  int width = 640;
  int height = 360;
  int seconds = 4;
  int fps = 15;
  bool audio = true;
};

/// A clip from ffmpeg's test sources: moving test pattern, a tone, H.264 + AAC in MP4 with the
/// index first (so a truncated copy still probes as a video).
fs::path make_clip(const fs::path& dir, const std::string& name, const Clip& clip) {
  const fs::path out = dir / name;
  const std::string seconds = std::to_string(clip.seconds);
  std::vector<std::string> argv = {"ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                                   "testsrc2=size=" + std::to_string(clip.width) + "x" + std::to_string(clip.height) +
                                       ":rate=" + std::to_string(clip.fps) + ":duration=" + seconds};
  if (clip.audio) argv.insert(argv.end(), {"-f", "lavfi", "-i", "sine=frequency=440:duration=" + seconds});
  argv.insert(argv.end(), {"-c:v", "libx264", "-preset", "ultrafast", "-crf", "30", "-pix_fmt", "yuv420p"});
  if (clip.audio) argv.insert(argv.end(), {"-c:a", "aac", "-b:a", "64k"});
  argv.insert(argv.end(), {"-movflags", "+faststart", out.string()});
  run_command(argv);
  return out;
}

/// ffprobe's view of a URL or file: {format: {duration}, streams: [...]}.
json ffprobe(const std::string& target) {
  return json::parse(run_command({"ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams",
                                  target}));
}

HttpResponse upload(const HttpClient& http, const TestUser& user, const std::string& bytes,
                    const std::string& title = "Test clip", const std::string& filename = "clip.mp4") {
  Multipart form;
  form.field("title", title).field("description", "Made by ffmpeg").file("file", filename, "video/mp4", bytes);
  Headers headers = user.auth();
  headers["Content-Type"] = form.content_type();
  return http.request("POST", "/videos/upload", form.body(), headers);
}

/// GET /hls/{id}/status as `user` (a processing or failed video's status is its owner's only).
HttpResponse status_of(const HttpClient& http, const TestUser& user, const std::string& id) {
  return http.get("/hls/" + id + "/status", user.auth());
}

/// Polls the owner's GET /hls/{id}/status until the video leaves `processing` or the deadline passes.
json wait_until_done(const HttpClient& http, const TestUser& owner, const std::string& id,
                     std::chrono::seconds limit = 300s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    const auto res = status_of(http, owner, id);
    if (res.status != 200) throw std::runtime_error("status request failed: " + res.body);
    const json status = res.json();
    if (status["status"] != "processing") return status;
    if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("still processing: " + res.body);
    std::this_thread::sleep_for(200ms);
  }
}

/// The `#EXT-X-STREAM-INF` attribute lists of a master playlist, with the URI that follows each.
std::vector<std::pair<std::string, std::string>> variants_of(const std::string& master) {
  std::vector<std::pair<std::string, std::string>> out;
  std::istringstream in(master);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("#EXT-X-STREAM-INF:", 0) == 0) {
      std::string uri;
      std::getline(in, uri);
      out.emplace_back(line, uri);
    }
  }
  return out;
}

std::vector<fs::path> files_in(const fs::path& dir) {
  std::vector<fs::path> out;
  if (!fs::exists(dir)) return out;
  for (const auto& entry : fs::directory_iterator(dir)) out.push_back(entry.path());
  return out;
}

/// On both storage backends. The S3 suite has Reelhub proxy the bytes, so the same assertions
/// (Range, ETag, JSON 404s) hold for Reelhub's own answers on both; redirects are
/// VideosSharedStorageTest's.
class VideosTest : public StackTest, public ::testing::WithParamInterface<StorageBackend> {
 protected:
  /// Hides StackTest's: the stack starts in the first SetUp, which knows the backend.
  static void SetUpTestSuite() {}
  static void TearDownTestSuite() {
    StackTest::TearDownTestSuite();
    tried_ = false;
    objects_.reset();
    owner_.reset();
    ready_480p_.clear();
    storage_.reset();
  }
  void SetUp() override {
    if (!tried_) {
      tried_ = true;
      start(GetParam());
    }
    StackTest::SetUp();
  }

  static void start(StorageBackend backend) {
    storage_ = std::make_unique<TestStorage>(backend);  // throws (failing the case) without s3rver
    auto env = live_env();  // relaxed rate limits, and SRT on loopback for the live-while-transcoding case
    env["REELHUB_UPLOAD_MAX_BYTES"] = std::to_string(kUploadLimit);
    env["REELHUB_UPLOAD_MAX_DURATION_SECONDS"] = std::to_string(kMaxDurationSeconds);
    env["REELHUB_STORAGE_MEDIA_DELIVERY"] = "proxy";
    env.merge(storage_->server_env());
    start_stack(env);
    if (started()) objects_ = storage_->store(stack().server.media_root());
  }

  static HttpClient slow_http() { return stack().server.http(120s); }

  static const fs::path& clips() {
    static TempDir dir("reelhub-clips");
    return dir.path();
  }

  static TestUser& owner() {
    if (!owner_) owner_ = register_and_login(http(), "vidowner");
    return *owner_;
  }

  /// One ready 480p video (the no-upscale case), shared by the social and HLS tests.
  static const std::string& ready_480p() {
    if (ready_480p_.empty()) {
      const auto clip = make_clip(clips(), "480p.mp4", Clip{.width = 854, .height = 480, .seconds = 4});
      const auto res = upload(slow_http(), owner(), read_file(clip), "A 480p clip");
      if (res.status != 202) throw std::runtime_error("upload failed: " + res.body);
      ready_480p_ = res.json()["id"].get<std::string>();
    }
    return ready_480p_;
  }

  /// True once <media_root>/tmp is empty: the server removes a streamed body after answering.
  static bool tmp_empties() {
    const fs::path tmp = stack().server.media_root() / "tmp";
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!files_in(tmp).empty() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(20ms);
    return files_in(tmp).empty();
  }

  /// Where the server transcodes a video (with the local backend, also where its files stay).
  static fs::path video_dir(const std::string& id) { return stack().server.media_root() / "videos" / id; }
  /// The names of a video's stored objects under `folder` ("" = all, "360p/"), read from the
  /// backend itself.
  static std::vector<std::string> stored(const std::string& id, const std::string& folder = "") {
    return keys_under(*objects_, "videos/" + id + "/" + folder);
  }
  static bool is_stored(const std::string& id, const std::string& name) {
    return objects_->head("videos/" + id + "/" + name).has_value();
  }
  /// A URL of this suite's server, for ffprobe.
  static std::string url_of(const std::string& path) {
    return "http://127.0.0.1:" + std::to_string(stack().server.port()) + path;
  }

 private:
  static inline bool tried_ = false;
  static inline std::unique_ptr<TestStorage> storage_;
  static inline std::unique_ptr<storage::ObjectStore> objects_;
  static inline std::optional<TestUser> owner_;
  static inline std::string ready_480p_;
};

// One suite per backend (not one suite of both values), so each starts and stops its server once.
INSTANTIATE_TEST_SUITE_P(Local, VideosTest, ::testing::Values(StorageBackend::local));
INSTANTIATE_TEST_SUITE_P(S3, VideosTest, ::testing::Values(StorageBackend::s3));

// Acceptance 1: a 10 s 1080p clip becomes three renditions with correct master attributes, each
// readable by ffprobe and as long as the source.
TEST_P(VideosTest, TenSecond1080pClipBecomesThreeVariantLadder) {
  const auto clip = make_clip(clips(), "1080p.mp4", Clip{.width = 1920, .height = 1080, .seconds = 10, .fps = 10});
  const double source_duration = std::stod(ffprobe(clip.string())["format"]["duration"].get<std::string>());
  // The owner's socket receives progress and readiness unasked, on its user topic.
  WsClient ws(stack().server.port(), WsOptions{.target = "/ws?access_token=" + owner().access_token, .timeout = 300s});
  ASSERT_EQ(ws.receive()["type"], "authenticated");
  const auto res = upload(slow_http(), owner(), read_file(clip), "Full HD");
  ASSERT_EQ(res.status, 202) << res;
  const json created = res.json();
  EXPECT_EQ(created["status"], "processing");
  const std::string id = created["id"];

  std::vector<json> before_ready;
  const json ready = ws.receive_until("video.ready", nullptr, &before_ready);
  EXPECT_EQ(ready["data"]["video_id"], id);
  EXPECT_EQ(ready["data"]["variants"], json::array({"360p", "720p", "1080p"}));
  const auto progress = std::find_if(before_ready.begin(), before_ready.end(), [&](const json& m) {
    return m["type"] == "video.progress" && m["data"]["video_id"] == id && m["data"]["progress_percent"] > 0;
  });
  EXPECT_NE(progress, before_ready.end()) << "no video.progress before video.ready";

  const json status = wait_until_done(http(), owner(), id);
  ASSERT_EQ(status["status"], "ready") << status.dump();
  EXPECT_EQ(status["progress_percent"], 100);
  EXPECT_EQ(status["variants"], json::array({"360p", "720p", "1080p"}));

  const auto master = http().get("/hls/" + id + "/master.m3u8");
  ASSERT_EQ(master.status, 200) << master;
  EXPECT_EQ(master.header("Content-Type"), "application/vnd.apple.mpegurl");
  EXPECT_EQ(master.header("Access-Control-Allow-Origin"), "*");
  const auto variants = variants_of(master.body);
  ASSERT_EQ(variants.size(), 3u) << master.body;
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"RESOLUTION=640x360", "avc1.64001e,mp4a.40.2"},
      {"RESOLUTION=1280x720", "avc1.64001f,mp4a.40.2"},
      {"RESOLUTION=1920x1080", "avc1.640028,mp4a.40.2"}};
  const std::regex bandwidth("BANDWIDTH=([0-9]+)");
  for (std::size_t i = 0; i < variants.size(); ++i) {
    const auto& [attributes, uri] = variants[i];
    EXPECT_NE(attributes.find(expected[i].first), std::string::npos) << attributes;
    EXPECT_NE(attributes.find("CODECS=\"" + expected[i].second + "\""), std::string::npos) << attributes;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(attributes, m, bandwidth)) << attributes;
    EXPECT_GT(std::stoll(m[1]), 50'000) << attributes;

    const json probed = ffprobe(url_of("/hls/" + id + "/" + uri));
    const double duration = std::stod(probed["format"]["duration"].get<std::string>());
    EXPECT_NEAR(duration, source_duration, 0.5) << uri;
    bool has_video = false, has_audio = false;
    for (const auto& s : probed["streams"]) {
      if (s["codec_type"] == "video") {
        has_video = true;
        EXPECT_EQ(s["codec_name"], "h264");
        EXPECT_EQ(std::to_string(s["width"].get<int>()) + "x" + std::to_string(s["height"].get<int>()),
                  expected[i].first.substr(11));
      }
      if (s["codec_type"] == "audio") has_audio = s["codec_name"] == "aac";
    }
    EXPECT_TRUE(has_video && has_audio) << probed.dump();
  }
  // Segments line up across rungs: every rendition has the same number of them.
  std::vector<std::size_t> counts;
  for (const std::string rung : {"360p", "720p", "1080p"}) {
    const auto files = stored(id, rung + "/");
    counts.push_back(std::count_if(files.begin(), files.end(), [](const std::string& f) { return f.ends_with(".ts"); }));
  }
  EXPECT_EQ(counts, (std::vector<std::size_t>{3, 3, 3}));  // 10 s in 4 s segments

  const auto best = http().get("/hls/" + id + "/playlist.m3u8");
  ASSERT_EQ(best.status, 200) << best;
  EXPECT_NE(best.body.find("1080p/segment_0.ts"), std::string::npos) << best.body;
  const auto thumbnail = http().get("/hls/" + id + "/thumbnail.jpg");
  ASSERT_EQ(thumbnail.status, 200) << thumbnail;
  EXPECT_EQ(thumbnail.header("Content-Type"), "image/jpeg");
  EXPECT_EQ(thumbnail.body.substr(0, 2), "\xff\xd8");
  const auto preview = http().get("/hls/" + id + "/preview.mp4");
  ASSERT_EQ(preview.status, 200) << preview;
  const double preview_duration =
      std::stod(ffprobe(url_of("/hls/" + id + "/preview.mp4"))["format"]["duration"].get<std::string>());
  EXPECT_GT(preview_duration, 3.0);
  EXPECT_LE(preview_duration, 5.5);
  EXPECT_FALSE(is_stored(id, "source")) << "the original is not kept once the renditions exist";
  EXPECT_FALSE(fs::exists(video_dir(id) / "source"));
}

// Acceptance 2: a 480p source yields only the 360p rung, never an upscale.
TEST_P(VideosTest, SourceBelow720pYieldsOnly360p) {
  const json status = wait_until_done(http(), owner(), ready_480p());
  ASSERT_EQ(status["status"], "ready") << status.dump();
  // A ready video's status is public, as the video is; no cache keeps it.
  const auto anonymous = http().get("/hls/" + ready_480p() + "/status");
  ASSERT_EQ(anonymous.status, 200) << anonymous;
  EXPECT_EQ(anonymous.json()["variants"], json::array({"360p"}));
  EXPECT_EQ(anonymous.headers.at("Cache-Control"), "private, no-store");
  EXPECT_EQ(status["variants"], json::array({"360p"}));
  const auto master = http().get("/hls/" + ready_480p() + "/master.m3u8");
  ASSERT_EQ(master.status, 200) << master;
  const auto variants = variants_of(master.body);
  ASSERT_EQ(variants.size(), 1u) << master.body;
  EXPECT_NE(variants[0].first.find("RESOLUTION=640x360"), std::string::npos) << master.body;
  EXPECT_TRUE(stored(ready_480p(), "720p/").empty());
}

/// Writes a 90 degree clockwise display matrix into the first track header of an MP4, as a
/// phone filming upright does (this ffmpeg CLI has no option for it).
void rotate_first_track(std::string& mp4) {
  const auto tkhd = mp4.find("tkhd");
  ASSERT_NE(tkhd, std::string::npos);
  ASSERT_EQ(mp4[tkhd + 4], 0) << "version 0 header expected";
  // Big-endian 16.16 / 2.30 fixed point {0, 1, 0, -1, 0, 0, 0, 0, 1} at offset 44 of a v0 tkhd.
  const std::uint32_t matrix[9] = {0, 0x10000, 0, 0xffff0000, 0, 0, 0, 0, 0x40000000};
  for (int i = 0; i < 9; ++i) {
    for (int b = 0; b < 4; ++b) mp4[tkhd + 44 + i * 4 + b] = static_cast<char>(matrix[i] >> (24 - 8 * b));
  }
}

// A portrait phone clip: the display matrix turns it, and "360p" is its shorter side.
TEST_P(VideosTest, RotatedSourceIsTurnedUpright) {
  const auto clip = make_clip(clips(), "rotated.mp4", Clip{.width = 640, .height = 360, .seconds = 2, .audio = false});
  std::string bytes = read_file(clip);
  rotate_first_track(bytes);
  const auto res = upload(slow_http(), owner(), bytes, "Portrait");
  ASSERT_EQ(res.status, 202) << res;
  const std::string id = res.json()["id"];
  const json status = wait_until_done(http(), owner(), id);
  ASSERT_EQ(status["status"], "ready") << status.dump();
  const auto master = http().get("/hls/" + id + "/master.m3u8");
  EXPECT_NE(master.body.find("RESOLUTION=360x640"), std::string::npos) << master.body;
  EXPECT_NE(master.body.find("CODECS=\"avc1.64001e\""), std::string::npos) << "no audio track, no mp4a";
}

// Odd size, 4:4:4 chroma and a variable frame rate (every second a third of the frames is
// missing): the rendition is 4:2:0, even-sized, and at a constant 30 fps the gaps are filled.
TEST_P(VideosTest, OddSizedVariableFrameRateSourceBecomesConstantRate) {
  const fs::path clip = clips() / "vfr.mp4";
  run_command({"ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30:duration=4", "-vf",
               "scale=641:361,select='lt(mod(n\\,30)\\,20)'", "-fps_mode", "vfr", "-c:v", "libx264", "-preset",
               "ultrafast", "-pix_fmt", "yuv444p", clip.string()});
  const json source = ffprobe(clip.string());
  ASSERT_EQ(source["streams"][0]["nb_frames"], "80") << "the source must have gaps";
  const double source_duration = std::stod(source["format"]["duration"].get<std::string>());

  const auto res = upload(slow_http(), owner(), read_file(clip), "VFR");
  ASSERT_EQ(res.status, 202) << res;
  const std::string id = res.json()["id"];
  const json status = wait_until_done(http(), owner(), id);
  ASSERT_EQ(status["status"], "ready") << status.dump();
  const json out = json::parse(run_command({"ffprobe", "-v", "error", "-count_frames", "-print_format", "json",
                                            "-show_streams", "-show_format",
                                            url_of("/hls/" + id + "/360p/index.m3u8")}));
  const json& video = out["streams"][0];
  EXPECT_EQ(video["width"], 640);
  EXPECT_EQ(video["height"], 360);
  EXPECT_EQ(video["pix_fmt"], "yuv420p");
  EXPECT_EQ(video["r_frame_rate"], "30/1");
  const int frames = std::stoi(video["nb_read_frames"].get<std::string>());
  EXPECT_NEAR(frames, source_duration * 30, 2) << "constant 30 fps over the whole duration";
  EXPECT_NEAR(std::stod(out["format"]["duration"].get<std::string>()), source_duration, 0.5);
}

// Acceptance 3: bad uploads are refused or fail with a reason, and the server keeps serving.
TEST_P(VideosTest, TextFileNamedMp4IsRefusedWith415) {
  const auto res = upload(http(), owner(), std::string(4096, 'x') + "\nthis is not a video\n", "Not a video", "evil.mp4");
  EXPECT_EQ(res.status, 415) << res;
  EXPECT_TRUE(is_api_error(res, 415)) << res;
  EXPECT_TRUE(tmp_empties()) << "upload left behind";
}

// Issue 9, item 6: a source longer than upload_max_duration_seconds is refused at once, with a
// machine code, and leaves no file.
TEST_P(VideosTest, TooLongUploadIsRefusedWith422AndAReason) {
  const auto clip = make_clip(clips(), "long_tiny.mp4",
                              Clip{.width = 64, .height = 64, .seconds = kMaxDurationSeconds + 5, .fps = 1, .audio = false});
  const auto res = upload(slow_http(), owner(), read_file(clip), "Too long");
  ASSERT_EQ(res.status, 422) << res;
  EXPECT_EQ(res.json().at("reason"), "duration_exceeded") << res;
  EXPECT_TRUE(res.json().at("details").contains("file")) << res;
  EXPECT_TRUE(tmp_empties()) << "upload left behind";
}

TEST_P(VideosTest, OversizedUploadIsRefusedWith413AndLeavesNoFile) {
  {  // Declared too large: refused before a byte of the body is read.
    RawConnection conn(stack().server.port(), 10s);
    Headers headers = owner().auth();
    headers["Content-Type"] = "multipart/form-data; boundary=x";
    headers["Content-Length"] = std::to_string(kUploadLimit * 4);
    conn.send(serialize_request("POST", "/videos/upload", "", headers, stack().server.port()));
    const auto res = conn.read_response();
    EXPECT_EQ(res.status, 413) << res;
  }
  {  // No token: refused before the body is read, so nobody unauthorised fills the disk.
    RawConnection conn(stack().server.port(), 10s);
    Headers headers{{"Content-Type", "multipart/form-data; boundary=x"}};
    headers["Content-Length"] = std::to_string(kUploadLimit / 2);
    conn.send(serialize_request("POST", "/videos/upload", "", headers, stack().server.port()));
    const auto res = conn.read_response();
    EXPECT_EQ(res.status, 401) << res;
  }
  {  // Chunked, so the size shows only while reading: the partial file must go.
    RawConnection conn(stack().server.port(), 30s);
    Headers headers = owner().auth();
    headers["Content-Type"] = "multipart/form-data; boundary=x";
    headers["Transfer-Encoding"] = "chunked";
    conn.send(serialize_request("POST", "/videos/upload", "", headers, stack().server.port()));
    const std::string chunk(1 << 20, 'v');
    std::ostringstream framed;
    framed << std::hex << chunk.size() << "\r\n" << chunk << "\r\n";
    HttpResponse res;
    try {
      for (std::size_t sent = 0; sent <= kUploadLimit + (2 << 20); sent += chunk.size()) conn.send(framed.str());
    } catch (const std::exception&) {
      // The server answers and closes as soon as the limit is crossed.
    }
    res = conn.read_response();
    EXPECT_EQ(res.status, 413) << res;
  }
  EXPECT_TRUE(tmp_empties()) << "partial upload left behind";
  EXPECT_EQ(http().get("/health").status, 200);
}

TEST_P(VideosTest, TruncatedMp4FailsWithAReason) {
  const auto clip = make_clip(clips(), "whole.mp4", Clip{.seconds = 8});
  std::string bytes = read_file(clip);
  bytes.resize(bytes.size() / 2);  // the index (first, faststart) survives, half the media does not
  const auto res = upload(slow_http(), owner(), bytes, "Cut short");
  ASSERT_EQ(res.status, 202) << res;
  const std::string id = res.json()["id"];
  const json status = wait_until_done(http(), owner(), id, 120s);
  EXPECT_EQ(status["status"], "failed") << status.dump();
  ASSERT_TRUE(status.contains("failure_reason")) << status.dump();
  EXPECT_NE(status["failure_reason"].get<std::string>().find("truncated"), std::string::npos) << status.dump();
  EXPECT_EQ(status["failure_reason"].get<std::string>().find('/'), std::string::npos) << "a server path";
  EXPECT_EQ(http().get("/hls/" + id + "/master.m3u8").status, 404);
  // The reason is the owner's to read: to anyone else the failed video does not exist.
  EXPECT_EQ(http().get("/hls/" + id + "/status").status, 404);
  EXPECT_EQ(status_of(http(), register_and_login(http(), "vidstranger"), id).status, 404);
  // Others are still served.
  wait_until_done(http(), owner(), ready_480p());
  EXPECT_EQ(http().get("/hls/" + ready_480p() + "/master.m3u8").status, 200);
}

TEST_P(VideosTest, TitleIsValidatedWith422) {
  const auto res = upload(http(), owner(), "irrelevant", std::string(201, 't'));
  EXPECT_EQ(res.status, 422) << res;
  EXPECT_TRUE(is_api_error(res, 422)) << res;
  EXPECT_TRUE(res.json()["details"].contains("title")) << res;
}

// Acceptance 5: 50 users liking at once count 50; repeating changes nothing.
TEST_P(VideosTest, FiftyConcurrentLikesCountExactlyFifty) {
  const std::string id = ready_480p();
  ASSERT_EQ(wait_until_done(http(), owner(), id)["status"], "ready");
  std::vector<TestUser> fans;
  for (int i = 0; i < 50; ++i) fans.push_back(register_and_login(http(), "fan"));
  auto like_all = [&] {
    std::atomic<int> ok{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> threads;
    for (const auto& fan : fans) {
      threads.emplace_back([&, token = fan.access_token] {
        while (!go) std::this_thread::yield();
        if (http().request("POST", "/videos/" + id + "/like", "", bearer(token)).status == 200) ++ok;
      });
    }
    go = true;
    for (auto& t : threads) t.join();
    return ok.load();
  };
  EXPECT_EQ(like_all(), 50);
  EXPECT_EQ(http().get("/videos/" + id).json()["likes_count"], 50);
  EXPECT_EQ(like_all(), 50);
  const auto video = http().get("/videos/" + id, fans[0].auth()).json();
  EXPECT_EQ(video["likes_count"], 50);
  EXPECT_EQ(video["liked"], true);
  for (int i = 0; i < 2; ++i) {
    const auto res = http().request("POST", "/videos/" + id + "/unlike", "", fans[0].auth());
    ASSERT_EQ(res.status, 200) << res;
    EXPECT_EQ(res.json()["likes_count"], 49);
  }
}

// Acceptance 6: Range, ETag, and path tricks refused with a JSON 404.
TEST_P(VideosTest, HlsFilesHonourRangeAndEtagAndRefusePathTricks) {
  const std::string id = ready_480p();
  ASSERT_EQ(wait_until_done(http(), owner(), id)["status"], "ready");
  const std::string segment = "/hls/" + id + "/360p/segment_0.ts";
  const auto full = http().get(segment);
  ASSERT_EQ(full.status, 200) << full;
  EXPECT_EQ(full.header("Content-Type"), "video/mp2t");
  EXPECT_NE(full.header("Cache-Control").find("immutable"), std::string::npos);
  EXPECT_EQ(static_cast<unsigned char>(full.body[0]), 0x47) << "an MPEG-TS sync byte";

  const auto part = http().get(segment, {{"Range", "bytes=188-375"}});
  ASSERT_EQ(part.status, 206) << part;
  EXPECT_EQ(part.body, full.body.substr(188, 188));
  EXPECT_EQ(part.header("Content-Range"), "bytes 188-375/" + std::to_string(full.body.size()));

  const std::string etag = full.header("ETag");
  ASSERT_FALSE(etag.empty());
  EXPECT_EQ(http().get(segment, {{"If-None-Match", etag}}).status, 304);
  const auto playlist = http().get("/hls/" + id + "/360p/index.m3u8");
  ASSERT_EQ(playlist.status, 200) << playlist;
  EXPECT_NE(playlist.body.find("#EXT-X-ENDLIST"), std::string::npos);

  for (const std::string& target : std::vector<std::string>
       {"/hls/" + id + "/360p/..%2F..%2F" + id + "%2Fmaster.m3u8", "/hls/" + id + "/..%2F360p/segment_0.ts",
        "/hls/" + id + "/360p/..", "/hls/" + id + "/360p/%2E%2E%2Fsource", "/hls/..%2F" + id + "/master.m3u8",
        "/hls/" + id + "/360p/segment_0.ts%2F..%2F..%2Fsource", "/hls/" + id + "/source/index.m3u8",
        "/hls/" + id + "/360p/segment_99.ts", std::string("/hls/not-a-uuid/status")}) {
    const auto res = http().get(target);
    EXPECT_EQ(res.status, 404) << target << "\n" << res;
    EXPECT_TRUE(is_api_error(res, 404)) << res;
    EXPECT_EQ(res.header("Access-Control-Allow-Origin"), "*") << target;
  }
}

TEST_P(VideosTest, FeedCommentsViewsAndBlocks) {
  const std::string id = ready_480p();
  ASSERT_EQ(wait_until_done(http(), owner(), id)["status"], "ready");
  TestUser viewer = register_and_login(http(), "viewer");

  auto feed_ids = [&](const Headers& headers) {
    std::vector<std::string> ids;
    std::optional<std::string> cursor;
    do {
      const auto res = http().get("/videos/feed?limit=2" + (cursor ? "&cursor=" + *cursor : std::string()), headers);
      EXPECT_EQ(res.status, 200) << res;
      const json page = res.json();
      for (const auto& v : page["videos"]) {
        EXPECT_EQ(v["status"], "ready");
        ids.push_back(v["id"]);
      }
      cursor = page["next_cursor"].is_null() ? std::nullopt : std::optional<std::string>(page["next_cursor"]);
    } while (cursor);
    return ids;
  };
  auto ids = feed_ids(viewer.auth());
  EXPECT_NE(std::find(ids.begin(), ids.end(), id), ids.end());
  EXPECT_EQ(http().get("/videos/feed?cursor=garbage").status, 422);

  ASSERT_EQ(http().post_json("/users/block", {{"user_id", owner().id}}, viewer.auth()).status, 200);
  ids = feed_ids(viewer.auth());
  EXPECT_EQ(std::find(ids.begin(), ids.end(), id), ids.end()) << "a blocked user's videos are hidden";
  ASSERT_EQ(http().post_json("/users/unblock", {{"user_id", owner().id}}, viewer.auth()).status, 200);

  const auto comment = http().post_json("/videos/" + id + "/comments", {{"text", "Nice test pattern"}}, viewer.auth());
  ASSERT_EQ(comment.status, 201) << comment;
  const std::string comment_id = comment.json()["id"];
  EXPECT_EQ(http().post_json("/videos/" + id + "/comments", {{"text", std::string(2001, 'a')}}, viewer.auth()).status, 422);
  EXPECT_EQ(http().post_json("/videos/" + id + "/comments", {{"text", "   "}}, viewer.auth()).status, 422);
  const auto list = http().get("/videos/" + id + "/comments");
  ASSERT_EQ(list.status, 200) << list;
  ASSERT_FALSE(list.json()["comments"].empty());
  EXPECT_EQ(list.json()["comments"][0]["text"], "Nice test pattern");
  EXPECT_EQ(list.json()["comments"][0]["username"], viewer.username);
  TestUser stranger = register_and_login(http(), "stranger");
  EXPECT_EQ(http().del("/videos/" + id + "/comments/" + comment_id, stranger.auth()).status, 403);
  EXPECT_EQ(http().del("/videos/" + id + "/comments/" + comment_id, viewer.auth()).status, 204);

  const auto first = http().request("POST", "/videos/" + id + "/view", "", viewer.auth());
  ASSERT_EQ(first.status, 200) << first;
  EXPECT_EQ(first.json()["counted"], true);
  const auto again = http().request("POST", "/videos/" + id + "/view", "", viewer.auth());
  EXPECT_EQ(again.json()["counted"], false);
  EXPECT_EQ(again.json()["views_count"], first.json()["views_count"]);
}

TEST_P(VideosTest, OwnerDeletesVideoAndItsFiles) {
  // Smaller than the lowest rung: one rendition at the source's own size.
  const auto clip = make_clip(clips(), "tiny.mp4", Clip{.width = 320, .height = 240, .seconds = 2});
  const auto res = upload(slow_http(), owner(), read_file(clip), "Tiny");
  ASSERT_EQ(res.status, 202) << res;
  const std::string id = res.json()["id"];
  const json status = wait_until_done(http(), owner(), id);
  ASSERT_EQ(status["status"], "ready") << status.dump();
  EXPECT_EQ(status["variants"], json::array({"240p"}));
  ASSERT_TRUE(is_stored(id, "master.m3u8"));

  TestUser other = register_and_login(http(), "other");
  EXPECT_EQ(http().del("/videos/" + id, other.auth()).status, 403);
  EXPECT_EQ(http().del("/videos/" + id, owner().auth()).status, 204);
  EXPECT_FALSE(fs::exists(video_dir(id)));
  EXPECT_EQ(stored(id), std::vector<std::string>{});
  EXPECT_EQ(http().get("/videos/" + id).status, 404);
  EXPECT_EQ(http().get("/hls/" + id + "/master.m3u8").status, 404);
}

// Acceptance 4: a server killed mid-transcode leaves a job that the next start completes.
// Acceptance 8: live comes first. While a 1080p transcode keeps the worker busy, a live SRT
// publisher's segments keep their target duration and are listed as fast as they are published.
TEST_P(VideosTest, LiveStreamKeepsRealTimeWhileATranscodeRuns) {
  const fs::path clip = make_clip(clips(), "busy_1080p.mp4", Clip{.width = 1920, .height = 1080, .seconds = 20, .fps = 30});
  const HttpResponse up = upload(slow_http(), owner(), read_file(clip), "Busy");
  ASSERT_EQ(up.status, 202) << up;
  const std::string video = up.json().at("id");

  const TestUser streamer = register_and_login(http(), "livetx", "streamer");
  const StartedStream s = create_and_start(http(), streamer);
  Publisher publisher(s.srt_url, 12);
  wait_for_status(http(), streamer, s.id, "active");
  // When each segment was first listed, polling the live playlist like a player does.
  std::map<std::uint64_t, std::pair<std::chrono::steady_clock::time_point, double>> listed;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (publisher.process().running() && std::chrono::steady_clock::now() < deadline) {
    const HttpResponse res = http().get(s.hls_url);
    if (res.status == 200)
      for (const PlaylistEntry& e : parse_media_playlist(res.body).segments)
        listed.try_emplace(e.sequence, std::chrono::steady_clock::now(), e.duration);
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(wait_for_status(http(), streamer, s.id, "waiting").at("status"), "waiting");
  const json transcode = status_of(http(), owner(), video).json();
  EXPECT_EQ(transcode.at("status"), "processing") << "the transcode must overlap the whole live window";
  // Its progress is the owner's; the segments it is writing are served to nobody yet (the rung
  // playlists of a VOD ladder appear only at its end, segments one by one).
  EXPECT_EQ(http().get("/hls/" + video + "/status").status, 404);
  const fs::path first_segment = video_dir(video) / "360p" / "segment_0.ts";
  while (!fs::exists(first_segment) && status_of(http(), owner(), video).json().at("status") == "processing") {
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(fs::exists(first_segment)) << "finished or failed before writing a segment";
  const HttpResponse partial = http().get("/hls/" + video + "/360p/segment_0.ts");
  if (status_of(http(), owner(), video).json().at("status") == "processing") {
    EXPECT_EQ(partial.status, 404) << partial;
  }

  ASSERT_GE(listed.size(), 4u);
  // The last one was cut by the disconnect; every other segment has the target duration.
  double media = 0;
  for (auto it = listed.begin(); it != std::prev(listed.end()); ++it) {
    EXPECT_NEAR(it->second.second, 2.0, 0.1) << "segment " << it->first;
    if (it != listed.begin()) media += it->second.second;
  }
  // From the first listing to the last full one, wall time tracks media time.
  const auto last_full = std::prev(listed.end(), 2);
  const double wall = std::chrono::duration<double>(last_full->second.first - listed.begin()->second.first).count();
  EXPECT_NEAR(wall, media, 0.1 * media + 0.3) << "listed over " << wall << " s for " << media << " s of media";
  ASSERT_EQ(http().del("/videos/" + video, owner().auth()).status, 204);
}

TEST(VideosRestartTest, KilledServerResumesTheTranscodeAfterRestart) {
  TestDatabase db;
  TempDir shared("reelhub-restart");
  const std::string secret = "restart-secret-" + random_hex(16);
  auto options = [&] {
    ServerOptions o{.database_url = db.url(), .env = relaxed_rate_limits()};
    o.env["REELHUB_MEDIA_ROOT"] = (shared.path() / "media").string();
    o.env["REELHUB_JWT_SECRET"] = secret;  // tokens stay valid across the restart
    o.env["REELHUB_TRANSCODE_LEASE_SECONDS"] = "3";
    return o;
  };
  auto first = std::make_unique<ServerProcess>(options());
  const TestUser user = register_and_login(first->http(), "restart");
  const auto clip = make_clip(shared.path(), "long.mp4", Clip{.width = 1280, .height = 720, .seconds = 20});
  const auto res = upload(first->http(60s), user, read_file(clip), "Interrupted");
  ASSERT_EQ(res.status, 202) << res;
  const std::string id = res.json()["id"];

  const auto deadline = std::chrono::steady_clock::now() + 120s;
  for (;;) {
    const json status = status_of(first->http(), user, id).json();
    ASSERT_EQ(status["status"], "processing") << "finished before it could be interrupted: " << status.dump();
    if (status["progress_percent"].get<int>() > 0) break;
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "no progress reported";
    std::this_thread::sleep_for(100ms);
  }
  first->send_signal(SIGKILL);
  EXPECT_EQ(first->wait_exit(10s), -SIGKILL);
  first.reset();

  ServerProcess second(options());
  const json status = wait_until_done(second.http(), user, id);
  ASSERT_EQ(status["status"], "ready") << status.dump() << "\n" << second.log();
  EXPECT_EQ(status["variants"], json::array({"360p", "720p"}));
  const auto master = second.http().get("/hls/" + id + "/master.m3u8");
  ASSERT_EQ(master.status, 200) << master;
  EXPECT_EQ(variants_of(master.body).size(), 2u);
}

// Issue 12, acceptance 3: two instances share the database and an S3 bucket, nothing else. The
// second serves the HLS of a video the first transcoded: playlists through itself (their
// relative URIs must resolve to Reelhub), segments, preview and thumbnail as 302 redirects to
// presigned URLs of the bucket (storage_media_delivery's default), which a player follows.
TEST(VideosSharedStorageTest, SecondInstanceServesTheHlsTheFirstTranscoded) {
  S3Server s3;
  TestDatabase db;
  const std::string secret = "shared-secret-" + random_hex(16);
  auto options = [&] {
    ServerOptions o{.database_url = db.url(), .env = relaxed_rate_limits()};
    o.env.merge(s3.server_env());
    o.env["REELHUB_JWT_SECRET"] = secret;  // one user, signed in once, for both instances
    return o;
  };
  ServerProcess first(options());
  const TestUser user = register_and_login(first.http(), "shared");
  TempDir clips("reelhub-shared");
  const auto clip = make_clip(clips.path(), "shared.mp4", Clip{.width = 640, .height = 360, .seconds = 4});
  const auto res = upload(first.http(60s), user, read_file(clip), "Shared");
  ASSERT_EQ(res.status, 202) << res;
  const std::string id = res.json()["id"];
  const json status = wait_until_done(first.http(), user, id);
  ASSERT_EQ(status["status"], "ready") << status.dump() << "\n" << first.log();
  EXPECT_FALSE(fs::exists(first.media_root() / "videos" / id)) << "the first instance keeps nothing locally";

  // Its own media root and ports: only the database, the bucket and the JWT secret are shared.
  ServerProcess second(options());
  const HttpClient http = second.http();
  const auto master = http.get("/hls/" + id + "/master.m3u8");
  ASSERT_EQ(master.status, 200) << master << "\n" << second.log();
  EXPECT_EQ(master.header("Content-Type"), "application/vnd.apple.mpegurl");
  const auto variants = variants_of(master.body);
  ASSERT_EQ(variants.size(), 1u) << master.body;
  EXPECT_EQ(variants[0].second, "360p/index.m3u8");
  const auto playlist = http.get("/hls/" + id + "/360p/index.m3u8");
  ASSERT_EQ(playlist.status, 200) << playlist;
  EXPECT_NE(playlist.body.find("segment_0.ts"), std::string::npos) << playlist.body;

  for (const std::string name : {"360p/segment_0.ts", "preview.mp4", "thumbnail.jpg"}) {
    const auto redirect = http.get("/hls/" + id + "/" + name);
    ASSERT_EQ(redirect.status, 302) << name << "\n" << redirect;
    const std::string location = redirect.header("Location");
    EXPECT_TRUE(location.starts_with(s3.endpoint() + "/" + S3Server::kBucket + "/videos/" + id + "/")) << location;
    EXPECT_NE(location.find("X-Amz-Signature="), std::string::npos) << location;
    EXPECT_EQ(redirect.header("Cache-Control"), "private, no-store");
    const auto object = get_url(location);
    ASSERT_EQ(object.status, 200) << location << "\n" << object;
    EXPECT_FALSE(object.body.empty()) << name;
  }
  EXPECT_EQ(http.get("/hls/" + id + "/360p/segment_99.ts").status, 404) << "a missing object is Reelhub's 404";

  // A player's view: ffprobe follows the redirects and reads the whole ladder from the second.
  const json probed =
      ffprobe("http://127.0.0.1:" + std::to_string(second.port()) + "/hls/" + id + "/master.m3u8");
  EXPECT_NEAR(std::stod(probed["format"]["duration"].get<std::string>()), 4.0, 0.5) << probed.dump();
  EXPECT_FALSE(fs::exists(second.media_root() / "videos" / id));

  // Avatars likewise: stored through the first, redirected to by the second.
  const fs::path png = clips.path() / "avatar.png";
  run_command({"ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=320x240", "-frames:v", "1", png.string()});
  Multipart form;
  form.file("file", "avatar.png", "image/png", read_file(png));
  Headers headers = user.auth();
  headers["Content-Type"] = form.content_type();
  const auto uploaded = first.http().request("POST", "/users/upload-avatar", form.body(), headers);
  ASSERT_EQ(uploaded.status, 200) << uploaded;
  const auto avatar = http.get(uploaded.json().at("avatar_url").get<std::string>());
  ASSERT_EQ(avatar.status, 302) << avatar;
  const auto jpeg = get_url(avatar.header("Location"));
  ASSERT_EQ(jpeg.status, 200) << jpeg;
  EXPECT_EQ(jpeg.body.substr(0, 2), "\xff\xd8");

  // A delete on the second removes what the first stored.
  EXPECT_EQ(http.del("/videos/" + id, user.auth()).status, 204);
  EXPECT_EQ(first.http().get("/hls/" + id + "/master.m3u8").status, 404);
  EXPECT_TRUE(storage::S3Store(s3.options()).list("videos/" + id + "/", 10).empty());
}

}  // namespace
}  // namespace reelhub::testing
