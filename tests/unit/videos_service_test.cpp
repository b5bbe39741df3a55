// VideoService and the transcode workers against a real, freshly migrated PostgreSQL database:
// uploads are probed and moved into place, concurrent claims never take the same job, and a job
// whose process died twice is failed with a reason instead of being retried forever.

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <thread>

#include "modules/users/accounts.hpp"
#include "modules/videos/repo.hpp"
#include "modules/videos/service.hpp"
#include "modules/videos/worker.hpp"
#include "recording_hub.hpp"
#include "reelhub/core/config.hpp"
#include "reelhub/core/error.hpp"
#include "reelhub/core/random.hpp"
#include "reelhub/db/statements.hpp"
#include "reelhub/metrics/registry.hpp"
#include "reelhub/storage/local_store.hpp"
#include "system.hpp"
#include "test_database.hpp"

namespace reelhub::videos {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class VideoServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { database_ = std::make_unique<reelhub::testing::TestDatabase>(); }
  static void TearDownTestSuite() { database_.reset(); }

  auth::AuthUser make_user(auth::Role role = auth::Role::viewer) {
    const std::string name = "v_" + random_hex(5);
    const auto account = accounts_.create({name, name + "@example.com", "not-a-real-hash", role});
    return auth::AuthUser{account.id, account.username, account.role, "session"};
  }

  /// A 320x240 clip from ffmpeg's test source, as an upload's file part would be on disk.
  fs::path make_clip(const std::string& name, int seconds = 1) {
    const fs::path path = dir_.path() / name;
    reelhub::testing::run_command({"ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                                   "testsrc2=size=320x240:rate=10:duration=" + std::to_string(seconds), "-c:v",
                                   "libx264", "-preset",
                                   "ultrafast", "-pix_fmt", "yuv420p", path.string()});
    return path;
  }

  /// Runs `sql` with one text parameter and returns the first column of the first row.
  std::string query(const std::string& sql, const std::string& param) {
    return pool_.transact([&](pqxx::work& tx) { return tx.exec_params1(sql, param)[0].as<std::string>(); });
  }

  /// Takes every other processing video out of the queue, so the workers see only `id`.
  void only_job(const std::string& id) {
    pool_.transact([&](pqxx::work& tx) {
      tx.exec_params0("UPDATE videos SET status = 'failed' WHERE status = 'processing' AND id <> $1::uuid", id);
    });
  }

  /// `fn` throws an ApiError with `code` (and with `reason`, when one is given).
  static void expect_error(ErrorCode code, const std::function<void()>& fn, const std::string& what,
                           const std::string& reason = {}) {
    try {
      fn();
      ADD_FAILURE() << what << ": no error";
    } catch (const ApiError& e) {
      EXPECT_EQ(e.code(), code) << what << ": " << e.what();
      if (!reason.empty()) {
        EXPECT_EQ(e.reason(), reason) << what << ": " << e.what();
      }
    }
  }

  /// Runs one transcode worker until the video leaves processing (or `limit` passes); its status then.
  Video transcode(const auth::AuthUser& owner, const std::string& id, std::chrono::seconds limit) {
    Config config;
    config.transcode_workers = 1;
    TranscodeWorkers workers(config, pool_, hub_, metrics_, files_);
    workers.start();
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (service_.status(owner, id).status == VideoStatus::processing && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(50ms);
    }
    workers.stop();
    return service_.status(owner, id);
  }

  /// Takes every processing video out of the queue, so a test sees only the jobs it makes.
  void empty_queue() {
    pool_.transact([](pqxx::work& tx) { tx.exec0("UPDATE videos SET status = 'failed' WHERE status = 'processing'"); });
  }

  static inline std::unique_ptr<reelhub::testing::TestDatabase> database_;
  reelhub::testing::TempDir dir_{"reelhub-videos"};
  metrics::Registry metrics_;
  db::Pool pool_{db::PoolOptions{database_->url(), 4}, metrics_};
  users::Accounts accounts_{pool_};
  reelhub::testing::RecordingHub hub_;
  int wakes_ = 0;
  storage::LocalStore store_{dir_.path() / "media", storage::UrlSigner("videos-test"), ""};
  VideoFiles files_{store_, dir_.path() / "media"};
  VideoService service_{pool_, files_, upload_limits(Config{}), [this] { ++wakes_; }};
};

TEST_F(VideoServiceTest, UploadProbesStoresAndMovesTheSourceIntoPlace) {
  const auto owner = make_user();
  const fs::path clip = make_clip("clip.mp4");
  const Video video = service_.upload(owner, {.title = "Clip", .description = "", .source = clip});
  EXPECT_EQ(video.status, VideoStatus::processing);
  EXPECT_EQ(video.owner_username, owner.username);
  EXPECT_EQ(video.width, 320);
  EXPECT_EQ(wakes_, 1);
  EXPECT_FALSE(fs::exists(clip));
  EXPECT_TRUE(fs::exists(files_.work_dir(video.id) / "source"));

  // Not ready: only its owner sees it.
  EXPECT_EQ(service_.get(owner, video.id).id, video.id);
  expect_error(ErrorCode::not_found, [&] { service_.get(make_user(), video.id); }, "stranger, processing");
  expect_error(ErrorCode::conflict, [&] { service_.like(owner, video.id); }, "like while processing");
}

TEST_F(VideoServiceTest, UploadRefusesNonVideoAndBadTitles) {
  const auto owner = make_user();
  const fs::path text = dir_.path() / "notes.mp4";
  std::ofstream(text) << "just some text, named like a video\n";
  expect_error(ErrorCode::unsupported_media_type,
               [&] { service_.upload(owner, {.title = "Text", .description = "", .source = text}); }, "text file");
  const fs::path clip = make_clip("titled.mp4");
  expect_error(ErrorCode::validation_failed,
               [&] { service_.upload(owner, {.title = " \t", .description = "", .source = clip}); }, "blank title");
  expect_error(ErrorCode::validation_failed,
               [&] { service_.upload(owner, {.title = "ok", .description = std::string(5001, 'd'), .source = clip}); },
               "long description");
  expect_error(ErrorCode::not_found, [&] { service_.get(owner, "../../etc"); }, "no uuid");
  EXPECT_EQ(wakes_, 0);
}

TEST_F(VideoServiceTest, ConcurrentClaimsNeverTakeTheSameJob) {
  const auto owner = make_user();
  const auto insert = [&] {
    return pool_.transact([&](pqxx::work& tx) { return repo::insert_video(tx, owner.id, "job", "", 1, 2, 2, 0); });
  };
  // Uploads of earlier tests wait in the queue too, and older ones are claimed first.
  empty_queue();
  const std::string a = insert(), b = insert();
  // Two workers claim at once: the first holds its row locked, the second skips it.
  pqxx::connection c1(database_->url()), c2(database_->url());
  db::define_statements(c1);  // the repo runs named statements, as on the pool's connections
  db::define_statements(c2);
  pqxx::work t1(c1), t2(c2);
  const auto first = repo::claim_job(t1, "w1", 60);
  const auto second = repo::claim_job(t2, "w2", 60);
  ASSERT_TRUE(first && second);
  EXPECT_NE(first->video_id, second->video_id);
  EXPECT_EQ(first->attempts, 1);
  t1.commit();
  t2.commit();
  // Both leases are live now: nothing more to claim among these two.
  const auto third = pool_.transact([](pqxx::work& tx) { return repo::claim_job(tx, "w3", 60); });
  EXPECT_TRUE(!third || (third->video_id != a && third->video_id != b));
}

TEST_F(VideoServiceTest, JobInterruptedTwiceFailsWithAReason) {
  const auto owner = make_user();
  const fs::path clip = make_clip("crashy.mp4");
  const Video video = service_.upload(owner, {.title = "Crashy", .description = "", .source = clip});
  only_job(video.id);
  // Two workers took it and died: their leases ran out (a zero-second lease is out at once).
  for (const char* dead : {"dead-1", "dead-2"}) {
    const auto job = pool_.transact([&](pqxx::work& tx) { return repo::claim_job(tx, dead, 0); });
    ASSERT_TRUE(job && job->video_id == video.id);
  }
  const Video failed = transcode(owner, video.id, 30s);
  ASSERT_EQ(failed.status, VideoStatus::failed);
  ASSERT_TRUE(failed.failure_reason);
  EXPECT_NE(failed.failure_reason->find("interrupted 2 times"), std::string::npos) << *failed.failure_reason;
  EXPECT_EQ(query("SELECT attempts::text FROM videos WHERE id = $1::uuid", video.id), "3");
  EXPECT_FALSE(fs::exists(files_.work_dir(video.id))) << "a failed video keeps no files";
  const auto events = hub_.events("user:" + std::to_string(owner.id), "video.failed");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data["video_id"], video.id);
}

TEST_F(VideoServiceTest, WorkerTranscodesAndPublishesReady) {
  const auto owner = make_user();
  const Video video = service_.upload(owner, {.title = "Small", .description = "", .source = make_clip("small.mp4")});
  only_job(video.id);
  const Video ready = transcode(owner, video.id, 60s);
  ASSERT_EQ(ready.status, VideoStatus::ready) << ready.failure_reason.value_or("");
  EXPECT_EQ(ready.progress_percent, 100);
  EXPECT_EQ(ready.variants, std::vector<std::string>{"240p"});
  EXPECT_TRUE(fs::exists(*store_.local_file(service_.hls_key(video.id, HlsFile::master))));
  EXPECT_FALSE(fs::exists(files_.work_dir(video.id) / "source"));
  const auto events = hub_.events("user:" + std::to_string(owner.id), "video.ready");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data["variants"], nlohmann::json::array({"240p"}));
}

// Issue 9, item 10: a video that is not ready shows its status to its owner and admins only,
// and none of its files are served before the transcode wrote master.m3u8, last.
TEST_F(VideoServiceTest, NonReadyVideoIsItsOwnersAndServesNoFiles) {
  const auto owner = make_user();
  const Video video = service_.upload(owner, {.title = "Secret", .description = "", .source = make_clip("secret.mp4")});
  EXPECT_EQ(service_.status(owner, video.id).status, VideoStatus::processing);
  EXPECT_EQ(service_.status(make_user(auth::Role::admin), video.id).id, video.id);
  expect_error(ErrorCode::not_found, [&] { service_.status(std::nullopt, video.id); }, "anonymous, processing");
  expect_error(ErrorCode::not_found, [&] { service_.status(make_user(), video.id); }, "stranger, processing");

  // A transcode halfway: a rung's first segment and playlist are on disk, master.m3u8 is not.
  const fs::path dir = files_.work_dir(video.id);
  fs::create_directories(dir / "360p");
  std::ofstream(dir / "360p" / "segment_0.ts") << "ts";
  std::ofstream(dir / "360p" / "index.m3u8") << "#EXTM3U\n";
  std::ofstream(dir / "thumbnail.jpg") << "jpeg";
  expect_error(ErrorCode::not_found, [&] { service_.hls_key(video.id, HlsFile::in_variant, "360p", "segment_0.ts"); },
               "segment of a partial ladder");
  expect_error(ErrorCode::not_found, [&] { service_.hls_key(video.id, HlsFile::in_variant, "360p", "index.m3u8"); },
               "playlist of a partial ladder");
  expect_error(ErrorCode::not_found, [&] { service_.hls_key(video.id, HlsFile::thumbnail); }, "thumbnail");
  std::ofstream(dir / "master.m3u8") << "#EXTM3U\n";
  EXPECT_EQ(service_.hls_key(video.id, HlsFile::in_variant, "360p", "segment_0.ts"),
            "videos/" + video.id + "/360p/segment_0.ts");
}

// Issue 9, item 10: a transcode that fails for a reason of the server's (here the file system,
// whose errors name paths) stores and publishes a reason without server paths.
TEST_F(VideoServiceTest, ServerFailureReasonNamesNoServerPath) {
  const auto owner = make_user();
  const Video video = service_.upload(owner, {.title = "Blocked", .description = "", .source = make_clip("blocked.mp4")});
  only_job(video.id);
  // A directory where the transcode must remove a file: std::filesystem's error names the path.
  const fs::path blocker = files_.work_dir(video.id) / "master.m3u8" / "in-the-way";
  fs::create_directories(blocker);
  const Video failed = transcode(owner, video.id, 60s);
  ASSERT_EQ(failed.status, VideoStatus::failed);
  ASSERT_TRUE(failed.failure_reason);
  EXPECT_EQ(failed.failure_reason->find(dir_.path().string()), std::string::npos) << *failed.failure_reason;
  EXPECT_EQ(failed.failure_reason->find('/'), std::string::npos) << *failed.failure_reason;
  EXPECT_NE(failed.failure_reason->find("server error"), std::string::npos) << *failed.failure_reason;
  const auto events = hub_.events("user:" + std::to_string(owner.id), "video.failed");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data["reason"], *failed.failure_reason);
}

// Issue 9, item 6: the queue is round robin by owner. User B's single upload is transcoded
// before user A's second of many, and each owner sees where their waiting videos stand.
TEST_F(VideoServiceTest, QueueTakesOwnersInTurnsAndShowsThePosition) {
  empty_queue();
  const auto a = make_user(), b = make_user();
  const auto insert = [&](const auth::AuthUser& owner) {
    return pool_.transact([&](pqxx::work& tx) { return repo::insert_video(tx, owner.id, "job", "", 1, 2, 2, 0); });
  };
  const std::string a1 = insert(a), a2 = insert(a), a3 = insert(a);
  const std::string b1 = insert(b);  // uploaded last
  const auto position = [&](const auth::AuthUser& owner, const std::string& id) {
    return service_.status(owner, id).queue_position;
  };
  EXPECT_EQ(position(a, a1), 1);
  EXPECT_EQ(position(b, b1), 2);
  EXPECT_EQ(position(a, a2), 3);
  EXPECT_EQ(position(a, a3), 4);

  const auto claim = [&] {
    const auto job = pool_.transact([](pqxx::work& tx) { return repo::claim_job(tx, "worker", 60); });
    return job ? job->video_id : std::string("none");
  };
  EXPECT_EQ(claim(), a1);
  EXPECT_FALSE(position(a, a1)) << "a video being transcoded waits in no queue";
  EXPECT_EQ(position(b, b1), 1);
  EXPECT_EQ(claim(), b1) << "B's only upload goes before A's second";
  EXPECT_EQ(claim(), a2);
  EXPECT_EQ(claim(), a3);
  EXPECT_EQ(claim(), "none");
}

// Issue 9, item 6: a user's videos share a storage quota (413), and one upload has a longest
// duration and a largest picture (422); each refusal names its limit with a machine code.
TEST_F(VideoServiceTest, UploadsAreHeldToTheQuotaAndTheLimits) {
  const auto owner = make_user();
  const fs::path first = make_clip("quota-1.mp4");
  const auto clip_bytes = fs::file_size(first);
  VideoService limited(pool_, files_,
                       {.quota_bytes = clip_bytes * 3 / 2, .max_duration_seconds = 1, .max_pixels = 320 * 240}, {});
  const Video stored = limited.upload(owner, {.title = "Fits", .description = "", .source = first});
  const fs::path second = make_clip("quota-2.mp4");
  expect_error(ErrorCode::payload_too_large,
               [&] { limited.upload(owner, {.title = "Over", .description = "", .source = second}); }, "over quota",
               "storage_quota_exceeded");
  EXPECT_TRUE(fs::exists(second)) << "a refused source stays where the upload put it, for the route to remove";
  // Another user has a quota of their own; deleting frees the owner's.
  EXPECT_NO_THROW(limited.upload(make_user(), {.title = "Other", .description = "", .source = make_clip("q-3.mp4")}));
  limited.remove(owner, stored.id);
  EXPECT_NO_THROW(limited.upload(owner, {.title = "Again", .description = "", .source = second}));

  expect_error(ErrorCode::validation_failed,
               [&] { limited.upload(owner, {.title = "Long", .description = "", .source = make_clip("long.mp4", 3)}); },
               "too long", "duration_exceeded");
  VideoService small(pool_, files_,
                     {.quota_bytes = clip_bytes * 10, .max_duration_seconds = 60, .max_pixels = 320 * 240 - 1}, {});
  expect_error(ErrorCode::validation_failed,
               [&] { small.upload(owner, {.title = "Big", .description = "", .source = make_clip("big.mp4")}); },
               "too many pixels", "resolution_exceeded");
}

}  // namespace
}  // namespace reelhub::videos
