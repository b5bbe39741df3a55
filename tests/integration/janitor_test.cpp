// Issue 9, item 12: the janitor sweeps what crashes and failed cleanups leave behind — upload
// bodies of a killed process, half-written files, video directories no row names, ended
// sessions — and nothing else. The leftovers are made by hand, aged with last_write_time, the
// way a crash would leave them; the server sweeps every second here.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "expectations.hpp"
#include "stack.hpp"
#include "users.hpp"
#include "ws_client.hpp"

namespace reelhub::testing {
namespace {

namespace fs = std::filesystem;

std::map<std::string, std::string> janitor_env() {
  auto env = relaxed_rate_limits();
  env["REELHUB_JANITOR_INTERVAL_SECONDS"] = "1";
  env["REELHUB_SESSION_RETENTION_SECONDS"] = "0";
  return env;  // janitor_min_age_seconds stays at its default, an hour
}

class JanitorTest : public StackTest {
 protected:
  static void SetUpTestSuite() { start_stack(janitor_env()); }

  static fs::path media(const std::string& relative) { return stack().server.media_root() / relative; }

  /// A file at `path` last written `age` ago (its directory too, when `age_dir`).
  static void leave_file(const fs::path& path, std::chrono::seconds age, bool age_dir = false) {
    fs::create_directories(path.parent_path());
    std::ofstream(path) << "leftover";
    const auto then = fs::file_time_type::clock::now() - age;
    fs::last_write_time(path, then);
    if (age_dir) fs::last_write_time(path.parent_path(), then);
  }
};

constexpr std::chrono::seconds kOld = std::chrono::hours(2);
constexpr std::chrono::seconds kRecent = std::chrono::minutes(5);

TEST_F(JanitorTest, SweepsOldUploadBodiesAndHalfWrittenFilesOnly) {
  const auto dead_upload = media("tmp/upload-0123456789abcdef.part");
  const auto live_upload = media("tmp/upload-fedcba9876543210.part");
  const auto half_written = media("avatars/.42.jpg.0a1b2c3d");
  const auto kept_avatar = media("avatars/43.jpg");
  leave_file(dead_upload, kOld);
  leave_file(live_upload, kRecent);
  leave_file(half_written, kOld);
  leave_file(kept_avatar, kOld);

  EXPECT_TRUE(eventually([&] { return !fs::exists(dead_upload) && !fs::exists(half_written); }));
  EXPECT_TRUE(fs::exists(live_upload)) << "younger than janitor_min_age_seconds";
  EXPECT_TRUE(fs::exists(kept_avatar)) << "not a temporary name";
}

TEST_F(JanitorTest, SweepsVideoDirectoriesNoRowNames) {
  const auto owner = register_and_login(http(), "janitor");
  const std::string kept_id =
      stack().db.scalar("INSERT INTO videos (owner_id, title, status) VALUES (" + std::to_string(owner.id) +
                        ", 'kept', 'ready') RETURNING id");  // ready: no transcode touches it
  const std::string orphan_id = "0b7c1a52-4a39-4a53-9f0e-5a3c7e0e9d11";
  const std::string young_orphan_id = "6f5d9c8e-2b1a-4c3d-8e7f-9a0b1c2d3e4f";
  leave_file(media("videos/" + kept_id + "/source"), kOld, true);
  leave_file(media("videos/" + orphan_id + "/source"), kOld, true);
  leave_file(media("videos/" + young_orphan_id + "/source"), kRecent, true);
  leave_file(media("videos/not-a-uuid/source"), kOld, true);

  EXPECT_TRUE(eventually([&] { return !fs::exists(media("videos/" + orphan_id)); }));
  EXPECT_TRUE(fs::exists(media("videos/" + kept_id + "/source"))) << "its row exists";
  EXPECT_TRUE(fs::exists(media("videos/" + young_orphan_id))) << "may be an upload about to commit";
  EXPECT_TRUE(fs::exists(media("videos/not-a-uuid"))) << "not a name the videos module makes";
}

TEST_F(JanitorTest, PurgesEndedSessionsAndKeepsLiveOnes) {
  const auto leaving = register_and_login(http(), "leaving");
  const auto staying = register_and_login(http(), "staying");
  const auto count_sessions = [&](const TestUser& user) {
    return std::stoi(stack().db.scalar("SELECT count(*) FROM auth_sessions WHERE user_id = " + std::to_string(user.id)));
  };
  ASSERT_EQ(count_sessions(leaving), 1);
  ASSERT_EQ(http().request("POST", "/auth/logout", "", leaving.auth()).status, 200);

  EXPECT_TRUE(eventually([&] { return count_sessions(leaving) == 0; }));
  EXPECT_EQ(count_sessions(staying), 1);
  EXPECT_EQ(http().get("/auth/validate", staying.auth()).status, 200);
}

}  // namespace
}  // namespace reelhub::testing
