// Recordings (VOD) end to end with real media: live segments made by the ffmpeg CLI (H.264 or
// HEVC + AAC, two publisher runs with a clock reset, a forward clock jump, a gap, a truncated
// last segment, garbage), turned into a faststart MP4 + JPEG thumbnail by RecordingService on a
// real PostgreSQL, checked with ffprobe; jobs resumed after a "dead" instance; and the HTTP API
// served by the real server (Range, ETag, CORS, delete rules).

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "expectations.hpp"
#include "modules/recordings/service.hpp"
#include "modules/users/accounts.hpp"
#include "recording_hub.hpp"
#include "reelhub/core/error.hpp"
#include "reelhub/metrics/registry.hpp"
#include "stack.hpp"
#include "system.hpp"
#include "test_database.hpp"
#include "test_storage.hpp"
#include "users.hpp"

namespace reelhub::testing {
namespace {

using recordings::Recording;
using recordings::RecordingOptions;
using recordings::RecordingService;
using namespace std::chrono_literals;

constexpr auto kDeadline = 90s;  // a slow, shared 2-core machine builds while tests run

std::string new_uuid() {
  const std::string h = random_hex(16);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-4" + h.substr(13, 3) + "-a" + h.substr(17, 3) + "-" + h.substr(20, 12);
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// One publisher run: `seconds` of test picture (+ a tone unless `audio` is false) cut by the
/// ffmpeg HLS muxer into ~2 s segments numbered from `first_n` into `dir`. `extra` goes before
/// the output (e.g. -output_ts_offset to jump the clock). Returns the number of segments.
int publish_run(const std::filesystem::path& dir, int first_n, int seconds, bool audio = true,
                const std::string& video_codec = "libx264", std::vector<std::string> extra = {}) {
  std::filesystem::create_directories(dir);
  TempDir work("reelhub-run");
  std::vector<std::string> argv = {"ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
                                   "testsrc=size=320x240:rate=25"};
  if (audio) argv.insert(argv.end(), {"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"});
  argv.insert(argv.end(), {"-t", std::to_string(seconds), "-c:v", video_codec, "-preset", "veryfast", "-pix_fmt",
                           "yuv420p", "-g", "25"});
  if (video_codec == "libx265") argv.insert(argv.end(), {"-x265-params", "log-level=error"});
  if (audio) argv.insert(argv.end(), {"-c:a", "aac"});
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.insert(argv.end(), {"-f", "hls", "-hls_time", "2", "-hls_list_size", "0", "-start_number",
                           std::to_string(first_n), "-hls_segment_filename", (work.path() / "segment_%d.ts").string(),
                           (work.path() / "run.m3u8").string()});
  run_command(argv);
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(work.path())) {
    if (entry.path().extension() != ".ts") continue;
    std::filesystem::rename(entry.path(), dir / entry.path().filename());
    ++count;
  }
  return count;
}

std::string ffprobe(const std::filesystem::path& file, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"ffprobe", "-v", "error"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back(file.string());
  return run_command(argv);
}

double probed_duration(const std::filesystem::path& file) {
  return std::stod(ffprobe(file, {"-show_entries", "format=duration", "-of", "csv=p=0"}));
}

/// "codec,width,height" of the first video stream.
std::string probed_video(const std::filesystem::path& file) {
  std::string out = ffprobe(file, {"-select_streams", "v:0", "-show_entries", "stream=codec_name,width,height",
                                   "-of", "csv=p=0"});
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

/// Decodes every frame of every stream; the decoder's complaints, "" when it played through.
std::string decode_errors(const std::filesystem::path& file) {
  return run_command({"ffmpeg", "-hide_banner", "-v", "error", "-i", file.string(), "-f", "null", "-"});
}

/// Top-level MP4 box types in file order.
std::vector<std::string> top_level_boxes(const std::filesystem::path& file) {
  const std::string data = read_file(file);
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos + 8 <= data.size()) {
    std::uint64_t size = 0;
    for (int i = 0; i < 4; ++i) size = (size << 8) | static_cast<unsigned char>(data[pos + i]);
    out.push_back(data.substr(pos + 4, 4));
    if (size == 1 && pos + 16 <= data.size()) {  // 64-bit size follows
      size = 0;
      for (int i = 8; i < 16; ++i) size = (size << 8) | static_cast<unsigned char>(data[pos + i]);
    }
    if (size < 8) break;
    pos += size;
  }
  return out;
}

/// Polls until the recording leaves "processing" (or `deadline` passes) and returns it.
Recording wait_done(RecordingService& service, const std::string& stream_id, std::chrono::seconds deadline = kDeadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  for (;;) {
    Recording r = service.get(stream_id);
    if (r.status != "processing" || std::chrono::steady_clock::now() > until) return r;
    std::this_thread::sleep_for(50ms);
  }
}

bool eventually(const std::function<bool()>& condition, std::chrono::seconds deadline = kDeadline) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(50ms);
  }
  return true;
}

/// On both storage backends: with S3 the recording is uploaded and its directory removed.
class RecordingServiceTest : public ::testing::TestWithParam<StorageBackend> {
 protected:
  static void SetUpTestSuite() { database_ = std::make_unique<TestDatabase>(); }
  static void TearDownTestSuite() {
    database_.reset();
    storage_.reset();
  }

  void SetUp() override {
    if (!storage_) storage_ = std::make_unique<TestStorage>(GetParam());
    store_ = storage_->store(media_.path());
    const std::string name = "rec_" + random_hex(5);
    user_ = accounts_.create({name, name + "@example.com", "not-a-real-hash", auth::Role::streamer});
  }

  std::unique_ptr<RecordingService> make_service(RecordingOptions options = {}) {
    return std::make_unique<RecordingService>(pool_, hub_, media_.path(), *store_, options);
  }
  /// A stored file of the recording, as a file ffprobe can read.
  std::filesystem::path stored(const std::string& id, const std::string& name) {
    return file_of(*store_, "recordings/" + id + "/" + name, media_.path() / "downloaded");
  }
  int attempts_of(const std::string& id) {
    return pool_.transact([&](pqxx::work& tx) {
      return tx.exec_params1("SELECT attempts FROM recordings WHERE stream_id = $1::uuid", id)[0].as<int>();
    });
  }
  /// Enqueues the stream on a started service and waits for its outcome.
  Recording record(const std::string& id) {
    auto service = make_service();
    service->start();
    service->enqueue(request(id));
    return wait_done(*service, id);
  }
  std::filesystem::path live_dir(const std::string& id) const { return media_.path() / "live" / id; }
  std::filesystem::path recording_dir(const std::string& id) const { return media_.path() / "recordings" / id; }
  recordings::RecordingRequest request(const std::string& id) const {
    return {.stream_id = id, .user_id = user_.id, .title = "My stream", .username = user_.username};
  }

  static inline std::unique_ptr<TestDatabase> database_;
  static inline std::unique_ptr<TestStorage> storage_;
  TempDir media_{"reelhub-media"};
  std::unique_ptr<storage::ObjectStore> store_;
  metrics::Registry metrics_;
  db::Pool pool_{db::PoolOptions{database_->url(), 4}, metrics_};
  users::Accounts accounts_{pool_};
  RecordingHub hub_;
  users::Account user_;
};

// One suite per backend (not one suite of both values), so each starts its s3rver once.
INSTANTIATE_TEST_SUITE_P(Local, RecordingServiceTest, ::testing::Values(StorageBackend::local));
INSTANTIATE_TEST_SUITE_P(S3, RecordingServiceTest, ::testing::Values(StorageBackend::s3));

TEST_P(RecordingServiceTest, ReconnectsBecomeOneContinuousFaststartMp4WithThumbnail) {
  const std::string id = new_uuid();
  // Run A: 6 s as segments 8..10 (9 < 10 numerically, not as text). Run B: the publisher
  // reconnected and its clock restarted (same timestamps as run A). Segment 13 is missing. Run C
  // jumped its clock 1000 s forward.
  ASSERT_EQ(publish_run(live_dir(id), 8, 6), 3);
  ASSERT_EQ(publish_run(live_dir(id), 11, 4), 2);
  ASSERT_EQ(publish_run(live_dir(id), 14, 4, true, "libx264", {"-output_ts_offset", "1000"}), 2);
  const Recording r = record(id);
  ASSERT_EQ(r.status, "ready") << r.failure_reason.value_or("");
  const auto video = stored(id, "video.mp4");
  EXPECT_NEAR(r.duration_seconds.value(), 14.0, 0.5);
  EXPECT_NEAR(probed_duration(video), 14.0, 0.5) << "no gap or overlap where the clock reset or jumped";
  EXPECT_EQ(r.file_size_bytes.value(), static_cast<std::int64_t>(std::filesystem::file_size(video)));
  EXPECT_EQ(ffprobe(video, {"-select_streams", "v:0", "-count_packets", "-show_entries", "stream=nb_read_packets",
                            "-of", "csv=p=0"}),
            "350\n")
      << "every frame of the three runs (14 s at 25 fps)";
  EXPECT_EQ(decode_errors(video), "") << "plays through";
  const auto boxes = top_level_boxes(video);
  const auto moov = std::find(boxes.begin(), boxes.end(), "moov");
  const auto mdat = std::find(boxes.begin(), boxes.end(), "mdat");
  ASSERT_NE(moov, boxes.end());
  ASSERT_NE(mdat, boxes.end());
  EXPECT_LT(moov, mdat) << "faststart: the index comes before the media";
  EXPECT_EQ(probed_video(video), "h264,320,240");

  EXPECT_TRUE(r.has_thumbnail);
  EXPECT_EQ(probed_video(stored(id, "thumbnail.jpg")), "mjpeg,320,240");

  const auto events = hub_.events("stream:" + id, "recording_ready");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data.at("stream_id"), id);
  EXPECT_NEAR(events[0].data.at("duration_seconds").get<double>(), 14.0, 0.5);
  EXPECT_EQ(events[0].data.at("file_path"), "/api/v1/recordings/" + id + "/video");
  EXPECT_FALSE(std::filesystem::exists(live_dir(id))) << "live segments go once the recording is ready (retention 0)";
  // Nothing half-written is left beside the results.
  EXPECT_EQ(keys_under(*store_, "recordings/" + id + "/"), (std::vector<std::string>{"thumbnail.jpg", "video.mp4"}));
  if (GetParam() == StorageBackend::local) {
    std::vector<std::string> files;
    for (const auto& e : std::filesystem::directory_iterator(recording_dir(id))) files.push_back(e.path().filename());
    std::sort(files.begin(), files.end());
    EXPECT_EQ(files, (std::vector<std::string>{"thumbnail.jpg", "video.mp4"}));
  } else {
    EXPECT_FALSE(std::filesystem::exists(recording_dir(id))) << "uploaded, nothing stays on this disk";
  }
}

TEST_P(RecordingServiceTest, TruncatedLastSegmentStillMakesARecording) {
  const std::string id = new_uuid();
  ASSERT_EQ(publish_run(live_dir(id), 0, 6), 3);
  const auto last = live_dir(id) / "segment_2.ts";
  std::filesystem::resize_file(last, std::filesystem::file_size(last) / 2 + 77);  // SIGKILL mid-write
  const Recording r = record(id);
  ASSERT_EQ(r.status, "ready") << r.failure_reason.value_or("");
  const double duration = probed_duration(stored(id, "video.mp4"));
  EXPECT_GT(duration, 4.2) << "part of the truncated segment is kept";
  EXPECT_LT(duration, 6.0);
  EXPECT_NEAR(r.duration_seconds.value(), duration, 0.5);
}

TEST_P(RecordingServiceTest, HevcWithoutAudio) {
  const std::string id = new_uuid();
  ASSERT_EQ(publish_run(live_dir(id), 0, 4, false, "libx265"), 2);
  const Recording r = record(id);
  ASSERT_EQ(r.status, "ready") << r.failure_reason.value_or("");
  const auto video = stored(id, "video.mp4");
  EXPECT_EQ(probed_video(video), "hevc,320,240");
  EXPECT_EQ(ffprobe(video, {"-select_streams", "v:0", "-show_entries", "stream=codec_tag_string", "-of", "csv=p=0"}),
            "hvc1\n")
      << "the tag Apple players accept";
  EXPECT_EQ(ffprobe(video, {"-select_streams", "a", "-show_entries", "stream=index", "-of", "csv=p=0"}), "");
  EXPECT_NEAR(r.duration_seconds.value(), 4.0, 0.5);
  EXPECT_EQ(decode_errors(video), "");
  EXPECT_EQ(probed_video(stored(id, "thumbnail.jpg")), "mjpeg,320,240");
}

TEST_P(RecordingServiceTest, GarbageSegmentsFailAfterTwoAttemptsWithAReason) {
  const std::string id = new_uuid();
  std::filesystem::create_directories(live_dir(id));
  std::ofstream(live_dir(id) / "segment_0.ts", std::ios::binary) << random_hex(4000);
  std::ofstream(live_dir(id) / "segment_1.ts", std::ios::binary) << std::string(188 * 40, '\x47');
  const Recording r = record(id);
  ASSERT_EQ(r.status, "failed");
  ASSERT_TRUE(r.failure_reason);
  EXPECT_NE(r.failure_reason->find("no playable segment"), std::string::npos) << *r.failure_reason;
  EXPECT_EQ(attempts_of(id), RecordingService::kMaxAttempts);
  const auto events = hub_.events("stream:" + id, "recording_failed");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data.at("reason"), *r.failure_reason);
  EXPECT_TRUE(std::filesystem::exists(live_dir(id))) << "a failed recording keeps its segments";
  EXPECT_FALSE(std::filesystem::exists(recording_dir(id) / "video.mp4"));
  EXPECT_TRUE(keys_under(*store_, "recordings/" + id + "/").empty());
  EXPECT_THROW(make_service()->video_key(id), ApiError);
}

TEST_P(RecordingServiceTest, EnqueueIsIdempotentPerStream) {
  const std::string id = new_uuid();
  auto service = make_service();  // not started: the row stays as enqueued
  service->enqueue(request(id));
  auto second = request(id);
  second.title = "another title";
  service->enqueue(second);
  const auto page = service->list({.user_id = user_.id});
  ASSERT_EQ(page.total, 1);
  EXPECT_EQ(page.recordings[0].title, "My stream");
  EXPECT_EQ(page.recordings[0].status, "processing");
  EXPECT_EQ(page.recordings[0].username, user_.username);
}

TEST_P(RecordingServiceTest, JobOfADeadInstanceIsResumedAndALiveLeaseIsRespected) {
  const std::string orphan = new_uuid(), held = new_uuid(), crashed = new_uuid();
  ASSERT_EQ(publish_run(live_dir(orphan), 0, 2), 1);
  ASSERT_EQ(publish_run(live_dir(held), 0, 2), 1);
  const auto insert = [&](const std::string& id, int attempts, const std::string& lease, const std::string& age) {
    database_->exec("INSERT INTO recordings (stream_id, user_id, username, title, attempts, claimed_at, "
                    "lease_expires_at, created_at) VALUES ('" + id + "', " + std::to_string(user_.id) + ", '" +
                    user_.username + "', 't', " + std::to_string(attempts) + ", now() - interval '1 hour', " +
                    lease + ", now() - interval '" + age + "')");
  };
  // Oldest first: a worker ignoring leases would take `held` before the others.
  insert(held, 1, "now() + interval '1 hour'", "3 hours");     // another instance is on it
  insert(crashed, 2, "now() - interval '1 minute'", "2 hours");  // its workers died twice
  insert(orphan, 1, "now() - interval '1 minute'", "1 hour");   // its worker died once

  auto service = make_service();
  service->start();
  const Recording resumed = wait_done(*service, orphan);
  EXPECT_EQ(resumed.status, "ready") << resumed.failure_reason.value_or("");
  const Recording gave_up = wait_done(*service, crashed);
  EXPECT_EQ(gave_up.status, "failed");
  EXPECT_NE(gave_up.failure_reason.value_or("").find("interrupted"), std::string::npos)
      << gave_up.failure_reason.value_or("");
  EXPECT_EQ(service->get(held).status, "processing");
  EXPECT_EQ(attempts_of(held), 1) << "a job under a live lease is not claimed";

  // Once that lease runs out (its instance died), the job is this worker's.
  database_->exec("UPDATE recordings SET lease_expires_at = now() - interval '1 second' WHERE stream_id = '" + held + "'");
  const Recording taken_over = wait_done(*service, held, kDeadline);
  EXPECT_EQ(taken_over.status, "ready") << taken_over.failure_reason.value_or("");
}

TEST_P(RecordingServiceTest, LiveSegmentsAreKeptForTheRetentionThenSwept) {
  const std::string id = new_uuid();
  ASSERT_EQ(publish_run(live_dir(id), 0, 2), 1);
  auto service = make_service({.live_retention = 2s, .poll_interval = 100ms});
  service->start();
  service->enqueue(request(id));
  ASSERT_EQ(wait_done(*service, id).status, "ready");
  EXPECT_TRUE(std::filesystem::exists(live_dir(id))) << "kept right after the recording is ready";
  EXPECT_TRUE(eventually([&] { return !std::filesystem::exists(live_dir(id)); })) << "swept after the retention";
}

TEST_P(RecordingServiceTest, WorkersRunBelowLiveIngestInCpuPriority) {
  EXPECT_TRUE(thread_nice_values("recording").empty());
  auto service = make_service({.workers = 2});
  service->start();
  ASSERT_TRUE(eventually([] { return thread_nice_values("recording").size() == 2; }));
  EXPECT_EQ(thread_nice_values("recording"), (std::vector<int>{10, 10}));
  service->stop();
  EXPECT_TRUE(thread_nice_values("recording").empty()) << "stop() joins the workers";
}

TEST_P(RecordingServiceTest, ReadsRefuseUnknownAndInvalidIds) {
  auto service = make_service();
  for (const std::string& id : {new_uuid(), std::string("not-a-uuid"), std::string("../../etc")}) {
    try {
      service->get(id);
      ADD_FAILURE() << id << ": no error";
    } catch (const ApiError& e) {
      EXPECT_EQ(e.code(), ErrorCode::not_found) << id;
    }
  }
  try {
    service->list({.status = "done"});
    ADD_FAILURE() << "unknown status accepted";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.code(), ErrorCode::validation_failed);
  }
}

// ---------------------------------------------------------------------------------------------
// The HTTP API on the real server, on both storage backends (S3: Reelhub proxies the bytes, so
// Range and ETag are Reelhub's). Recordings are made by a service in this process on the
// server's database, media root and storage, as a second instance would.

class RecordingsHttpTest : public StackTest, public ::testing::WithParamInterface<StorageBackend> {
 protected:
  /// Hides StackTest's: the stack starts in the first SetUp, which knows the backend.
  static void SetUpTestSuite() {}
  void SetUp() override {
    if (!storage_) start(GetParam());
    StackTest::SetUp();
  }
  static void start(StorageBackend backend) {
    storage_ = std::make_unique<TestStorage>(backend);
    auto env = relaxed_rate_limits();
    env["REELHUB_STORAGE_MEDIA_DELIVERY"] = "proxy";
    env.merge(storage_->server_env());
    start_stack(env);
    if (!started()) return;
    store_ = storage_->store(stack().server.media_root());
    pool_ = std::make_unique<db::Pool>(db::PoolOptions{stack().db.url(), 2}, *metrics_);
    service_ = std::make_unique<RecordingService>(*pool_, *hub_, stack().server.media_root(), *store_, RecordingOptions{});
    service_->start();
  }
  static void TearDownTestSuite() {
    service_.reset();
    pool_.reset();
    store_.reset();
    StackTest::TearDownTestSuite();
    storage_.reset();
  }

  /// The bytes of a stored object, read from the backend itself.
  static std::string stored_bytes(const std::string& key) {
    std::ostringstream out;
    store_->get(key, out);
    return out.str();
  }

  /// A ready recording of a 4 s stream owned by `owner`.
  static std::string ready_recording(const TestUser& owner) {
    const std::string id = new_uuid();
    EXPECT_EQ(publish_run(stack().server.media_root() / "live" / id, 0, 4), 2);
    service_->enqueue({.stream_id = id, .user_id = owner.id, .title = "Friday stream", .username = owner.username});
    EXPECT_TRUE(eventually([&] {
      const auto res = http().get("/api/v1/recordings/" + id);
      return res.status == 200 && res.json().at("status") != "processing";
    }));
    return id;
  }

  static inline std::unique_ptr<metrics::Registry> metrics_ = std::make_unique<metrics::Registry>();
  static inline std::unique_ptr<RecordingHub> hub_ = std::make_unique<RecordingHub>();
  static inline std::unique_ptr<TestStorage> storage_;
  static inline std::unique_ptr<storage::ObjectStore> store_;
  static inline std::unique_ptr<db::Pool> pool_;
  static inline std::unique_ptr<RecordingService> service_;
};

INSTANTIATE_TEST_SUITE_P(Local, RecordingsHttpTest, ::testing::Values(StorageBackend::local));
INSTANTIATE_TEST_SUITE_P(S3, RecordingsHttpTest, ::testing::Values(StorageBackend::s3));

TEST_P(RecordingsHttpTest, ReadyRecordingShapeVideoRangeAndThumbnail) {
  const TestUser owner = register_and_login(http(), "vod", "streamer");
  const std::string id = ready_recording(owner);

  auto res = http().get("/api/v1/recordings/" + id);  // public: no token
  ASSERT_EQ(res.status, 200) << res;
  const auto body = res.json();
  EXPECT_EQ(body.at("status"), "ready") << body;
  EXPECT_EQ(body.at("stream_id"), id);
  EXPECT_TRUE(body.at("id").is_string());
  EXPECT_EQ(body.at("user_id"), owner.id);
  EXPECT_EQ(body.at("username"), owner.username);
  EXPECT_EQ(body.at("title"), "Friday stream");
  EXPECT_NEAR(body.at("duration_seconds").get<double>(), 4.0, 0.5);
  EXPECT_EQ(body.at("file_path"), "/api/v1/recordings/" + id + "/video");
  EXPECT_EQ(body.at("thumbnail_path"), "/api/v1/recordings/" + id + "/thumbnail");
  EXPECT_TRUE(body.at("failure_reason").is_null());
  EXPECT_TRUE(is_iso8601_utc(body.at("created_at").get<std::string>())) << body;
  EXPECT_TRUE(is_iso8601_utc(body.at("updated_at").get<std::string>())) << body;

  const auto file = stored_bytes("recordings/" + id + "/video.mp4");
  EXPECT_EQ(body.at("file_size_bytes"), file.size());
  auto video = http().get(body.at("file_path").get<std::string>());
  ASSERT_EQ(video.status, 200) << video.status;
  EXPECT_EQ(video.header("Content-Type"), "video/mp4");
  EXPECT_EQ(video.header("Access-Control-Allow-Origin"), "*");
  EXPECT_EQ(video.body, file);

  auto part = http().get(body.at("file_path").get<std::string>(), {{"Range", "bytes=100-1099"}});
  ASSERT_EQ(part.status, 206);
  EXPECT_EQ(part.header("Content-Range"), "bytes 100-1099/" + std::to_string(file.size()));
  EXPECT_EQ(part.body, file.substr(100, 1000));
  auto again = http().get(body.at("file_path").get<std::string>(), {{"If-None-Match", video.header("ETag")}});
  EXPECT_EQ(again.status, 304);

  auto thumbnail = http().get(body.at("thumbnail_path").get<std::string>());
  ASSERT_EQ(thumbnail.status, 200) << thumbnail.status;
  EXPECT_EQ(thumbnail.header("Content-Type"), "image/jpeg");
  ASSERT_GT(thumbnail.body.size(), 2u);
  EXPECT_EQ(thumbnail.body.substr(0, 2), "\xFF\xD8") << "a JPEG";
}

TEST_P(RecordingsHttpTest, ListFiltersAndPages) {
  const TestUser owner = register_and_login(http(), "vodlist", "streamer");
  const std::string first = ready_recording(owner);
  const std::string second = ready_recording(owner);
  const std::string uid = std::to_string(owner.id);

  auto res = http().get("/api/v1/recordings?user_id=" + uid + "&limit=1");
  ASSERT_EQ(res.status, 200) << res;
  auto body = res.json();
  EXPECT_EQ(body.at("total"), 2);
  ASSERT_EQ(body.at("recordings").size(), 1u);
  EXPECT_EQ(body["recordings"][0].at("stream_id"), second) << "newest first";
  EXPECT_EQ(body.at("pagination"), (nlohmann::json{{"limit", 1}, {"offset", 0}, {"has_more", true}}));

  body = http().get("/api/v1/recordings?user_id=" + uid + "&limit=1&offset=1").json();
  ASSERT_EQ(body.at("recordings").size(), 1u);
  EXPECT_EQ(body["recordings"][0].at("stream_id"), first);
  EXPECT_EQ(body.at("pagination").at("has_more"), false);

  EXPECT_EQ(http().get("/api/v1/recordings?user_id=" + uid + "&status=failed").json().at("total"), 0);
  EXPECT_EQ(http().get("/api/v1/recordings?user_id=" + uid + "&status=ready").json().at("total"), 2);
  EXPECT_TRUE(is_api_error(http().get("/api/v1/recordings?status=done"), 422));
  EXPECT_TRUE(is_api_error(http().get("/api/v1/recordings?limit=0"), 422));
  EXPECT_TRUE(is_api_error(http().get("/api/v1/recordings?limit=101"), 422));
  EXPECT_TRUE(is_api_error(http().get("/api/v1/recordings?user_id=abc"), 422));
}

TEST_P(RecordingsHttpTest, UnknownInvalidAndUnfinishedRecordingsAre404) {
  const TestUser owner = register_and_login(http(), "vod404", "streamer");
  EXPECT_TRUE(is_api_error(http().get("/api/v1/recordings/" + new_uuid()), 404));
  EXPECT_TRUE(is_api_error(http().get("/api/v1/recordings/not-a-uuid"), 404));
  EXPECT_TRUE(is_api_error(http().get("/api/v1/recordings/not-a-uuid/video"), 404));

  // Being processed by another instance (its lease runs for an hour).
  const std::string id = new_uuid();
  stack().db.exec("INSERT INTO recordings (stream_id, user_id, username, title, attempts, lease_expires_at) VALUES ('" +
                  id + "', " + std::to_string(owner.id) + ", '" + owner.username +
                  "', 't', 1, now() + interval '1 hour')");
  auto res = http().get("/api/v1/recordings/" + id);
  ASSERT_EQ(res.status, 200) << res;
  EXPECT_EQ(res.json().at("status"), "processing");
  EXPECT_TRUE(res.json().at("file_path").is_null());
  auto video = http().get("/api/v1/recordings/" + id + "/video");
  EXPECT_TRUE(is_api_error(video, 404)) << video;
  EXPECT_EQ(video.header("Access-Control-Allow-Origin"), "*") << "public media errors carry CORS too";
  EXPECT_TRUE(is_api_error(http().get("/api/v1/recordings/" + id + "/thumbnail"), 404));
}

TEST_P(RecordingsHttpTest, DeleteIsForTheOwnerOrAnAdmin) {
  const TestUser owner = register_and_login(http(), "vodown", "streamer");
  const TestUser other = register_and_login(http(), "vodother", "streamer");
  TestUser admin = register_and_login(http(), "vodadmin");
  stack().db.exec("UPDATE users SET role = 'admin' WHERE id = " + std::to_string(admin.id));
  log_in(http(), admin);
  const std::string mine = ready_recording(owner);
  const std::string by_admin = ready_recording(owner);
  const auto dir = stack().server.media_root() / "recordings" / mine;
  ASSERT_TRUE(store_->head("recordings/" + mine + "/video.mp4"));

  EXPECT_TRUE(is_api_error(http().del("/api/v1/recordings/" + mine), 401));
  EXPECT_TRUE(is_api_error(http().del("/api/v1/recordings/" + mine, other.auth()), 403));
  EXPECT_TRUE(is_api_error(http().del("/api/v1/recordings/" + new_uuid(), owner.auth()), 404));

  auto res = http().del("/api/v1/recordings/" + mine, owner.auth());
  ASSERT_EQ(res.status, 200) << res;
  EXPECT_EQ(res.json(), (nlohmann::json{{"message", "Recording deleted successfully"}, {"stream_id", mine}}));
  EXPECT_FALSE(std::filesystem::exists(dir)) << "its files are gone";
  EXPECT_TRUE(keys_under(*store_, "recordings/" + mine + "/").empty()) << "its objects are gone";
  EXPECT_TRUE(is_api_error(http().get("/api/v1/recordings/" + mine), 404));
  EXPECT_TRUE(is_api_error(http().get("/api/v1/recordings/" + mine + "/video"), 404));

  res = http().del("/api/v1/recordings/" + by_admin, admin.auth());
  ASSERT_EQ(res.status, 200) << res;
  EXPECT_TRUE(is_api_error(http().get("/api/v1/recordings/" + by_admin), 404));
}

}  // namespace
}  // namespace reelhub::testing
