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

  auth::AuthUser make_user() {
    const std::string name = "v_" + random_hex(5);
    const auto account = accounts_.create({name, name + "@example.com", "not-a-real-hash", auth::Role::viewer});
    return auth::AuthUser{account.id, account.username, account.role, "session"};
  }

  /// A one-second clip from ffmpeg's test source, as an upload's file part would be on disk.
  fs::path make_clip(const std::string& name) {
    const fs::path path = dir_.path() / name;
    reelhub::testing::run_command({"ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                                   "testsrc2=size=320x240:rate=10:duration=1", "-c:v", "libx264", "-preset",
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

  static void expect_error(ErrorCode code, const std::function<void()>& fn, const std::string& what) {
    try {
      fn();
      ADD_FAILURE() << what << ": no error";
    } catch (const ApiError& e) {
      EXPECT_EQ(e.code(), code) << what << ": " << e.what();
    }
  }

  static inline std::unique_ptr<reelhub::testing::TestDatabase> database_;
  reelhub::testing::TempDir dir_{"reelhub-videos"};
  metrics::Registry metrics_;
  db::Pool pool_{db::PoolOptions{database_->url(), 4}, metrics_};
  users::Accounts accounts_{pool_};
  reelhub::testing::RecordingHub hub_;
  int wakes_ = 0;
  VideoService service_{pool_, dir_.path() / "media", [this] { ++wakes_; }};
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
  EXPECT_TRUE(fs::exists(service_.video_dir(video.id) / "source"));

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
    return pool_.transact([&](pqxx::work& tx) { return repo::insert_video(tx, owner.id, "job", "", 1, 2, 2); });
  };
  // Uploads of earlier tests wait in the queue too, and older ones are claimed first.
  pool_.transact([](pqxx::work& tx) { tx.exec0("UPDATE videos SET status = 'failed' WHERE status = 'processing'"); });
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
  Config config;
  config.transcode_workers = 1;
  TranscodeWorkers workers(config, pool_, hub_, metrics_, dir_.path() / "media");
  workers.start();
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (service_.status(video.id).status == VideoStatus::processing && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  workers.stop();
  const Video failed = service_.status(video.id);
  ASSERT_EQ(failed.status, VideoStatus::failed);
  ASSERT_TRUE(failed.failure_reason);
  EXPECT_NE(failed.failure_reason->find("interrupted 2 times"), std::string::npos) << *failed.failure_reason;
  EXPECT_EQ(query("SELECT attempts::text FROM videos WHERE id = $1::uuid", video.id), "3");
  EXPECT_FALSE(fs::exists(service_.video_dir(video.id))) << "a failed video keeps no files";
  const auto events = hub_.events("user:" + std::to_string(owner.id), "video.failed");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data["video_id"], video.id);
}

TEST_F(VideoServiceTest, WorkerTranscodesAndPublishesReady) {
  const auto owner = make_user();
  const Video video = service_.upload(owner, {.title = "Small", .description = "", .source = make_clip("small.mp4")});
  only_job(video.id);
  Config config;
  config.transcode_workers = 1;
  TranscodeWorkers workers(config, pool_, hub_, metrics_, dir_.path() / "media");
  workers.start();
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (service_.status(video.id).status == VideoStatus::processing && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  workers.stop();
  const Video ready = service_.status(video.id);
  ASSERT_EQ(ready.status, VideoStatus::ready) << ready.failure_reason.value_or("");
  EXPECT_EQ(ready.progress_percent, 100);
  EXPECT_EQ(ready.variants, std::vector<std::string>{"240p"});
  EXPECT_TRUE(fs::exists(service_.hls_path(video.id, HlsFile::master)));
  EXPECT_FALSE(fs::exists(service_.video_dir(video.id) / "source"));
  const auto events = hub_.events("user:" + std::to_string(owner.id), "video.ready");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data["variants"], nlohmann::json::array({"240p"}));
}

}  // namespace
}  // namespace reelhub::videos
