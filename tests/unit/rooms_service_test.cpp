// RoomService against a real, freshly migrated PostgreSQL database with a hub that records what is
// published: the cap under many concurrent joins (no HTTP in between, so the joins really collide
// on the room's row), seats, and the audience of each event (who leaves the room's topic).

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <latch>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "modules/notifications/service.hpp"
#include "modules/recordings/service.hpp"
#include "modules/rooms/service.hpp"
#include "modules/users/accounts.hpp"
#include "modules/videos/service.hpp"
#include "recording_hub.hpp"
#include "reelhub/core/config.hpp"
#include "reelhub/core/error.hpp"
#include "reelhub/core/random.hpp"
#include "reelhub/metrics/registry.hpp"
#include "reelhub/storage/local_store.hpp"
#include "system.hpp"
#include "test_database.hpp"

namespace reelhub::rooms {
namespace {

using reelhub::testing::RecordingHub;

class RoomServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { database_ = std::make_unique<reelhub::testing::TestDatabase>(); }
  static void TearDownTestSuite() { database_.reset(); }

  auth::AuthUser make_user(const std::string& prefix = "u") {
    const std::string name = prefix + "_" + random_hex(5);
    const auto account = accounts_.create({name, name + "@example.com", "not-a-real-hash", auth::Role::viewer});
    return auth::AuthUser{account.id, account.username, account.role, "session"};
  }

  Room room_of(const auth::AuthUser& host) {
    const std::string video = database_->scalar("INSERT INTO videos (owner_id, title, status) VALUES (" +
                                                std::to_string(host.id) + ", 'clip', 'ready') RETURNING id");
    return service_.create(host, {.kind = MediaKind::video, .media_id = video});
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
  reelhub::testing::TempDir dir_{"reelhub-rooms"};
  metrics::Registry metrics_;
  db::Pool pool_{db::PoolOptions{database_->url(), 8}, metrics_};
  users::Accounts accounts_{pool_};
  RecordingHub hub_;
  notifications::NotificationService notifications_{pool_, hub_};
  storage::LocalStore store_{dir_.path(), storage::UrlSigner("rooms-test"), ""};
  videos::VideoFiles video_files_{store_, dir_.path()};
  videos::VideoService videos_{pool_, video_files_, videos::upload_limits(Config{}), [] {}};
  recordings::RecordingService recordings_{pool_, hub_, dir_.path(), store_, {}};
  RoomService service_{pool_, hub_, notifications_, videos_, recordings_, std::chrono::milliseconds(1000)};
};

TEST_F(RoomServiceTest, ConcurrentJoinsFillExactlyTheCappedSeats) {
  const auto host = make_user("host");
  const Room room = room_of(host);
  std::vector<auth::AuthUser> users;
  for (int i = 0; i < 40; ++i) users.push_back(make_user("rush"));

  std::vector<ErrorCode> outcomes(users.size(), ErrorCode::internal);
  std::vector<int> joined(users.size(), 0);  // not vector<bool>: threads write neighbouring elements
  std::latch start(static_cast<std::ptrdiff_t>(users.size()));
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < users.size(); ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      try {
        service_.join(users[i], room.id);
        joined[i] = 1;
      } catch (const ApiError& e) {
        outcomes[i] = e.code();
      }
    });
  }
  for (auto& t : threads) t.join();

  EXPECT_EQ(std::count(joined.begin(), joined.end(), 1), RoomService::kMaxCappedSeats - 1);
  EXPECT_EQ(std::count(outcomes.begin(), outcomes.end(), ErrorCode::conflict),
            static_cast<std::ptrdiff_t>(users.size()) - (RoomService::kMaxCappedSeats - 1));
  EXPECT_EQ(service_.get(host, room.id).participants.size(), static_cast<std::size_t>(RoomService::kMaxCappedSeats));
  EXPECT_EQ(hub_.events("room:" + room.id, "participant.joined").size(),
            static_cast<std::size_t>(RoomService::kMaxCappedSeats - 1));
}

TEST_F(RoomServiceTest, SeatsAreDecidedAtJoinAndSubscribersAreNotCounted) {
  const auto host = make_user("host");
  const Room room = room_of(host);
  for (int i = 0; i < RoomService::kMaxCappedSeats - 1; ++i) service_.join(make_user(), room.id);
  const auto fan = make_user("fan");
  database_->exec("INSERT INTO subscriptions (subscriber_id, channel_id) VALUES (" + std::to_string(fan.id) + ", " +
                  std::to_string(host.id) + ")");
  const Room full = service_.join(fan, room.id).room;
  EXPECT_EQ(full.participant_count, RoomService::kMaxCappedSeats + 1);
  const auto seat_of = [&](std::int64_t id) {
    return std::find_if(full.participants.begin(), full.participants.end(),
                        [&](const Participant& p) { return p.id == id; })
        ->seat;
  };
  EXPECT_EQ(seat_of(host.id), Seat::host);
  EXPECT_EQ(seat_of(fan.id), Seat::subscriber);
  expect_error(ErrorCode::conflict, [&] { service_.join(make_user(), room.id); }, "an ordinary user past the cap");
}

TEST_F(RoomServiceTest, LeavingAndKickedUsersLeaveTheTopicAndTheHostClosesIt) {
  const auto host = make_user("host"), guest = make_user(), other = make_user();
  const Room room = room_of(host);
  service_.join(guest, room.id);
  service_.join(other, room.id);
  EXPECT_TRUE(service_.may_subscribe(guest, room.id));
  EXPECT_FALSE(service_.may_subscribe(make_user(), room.id));
  EXPECT_FALSE(service_.may_subscribe(guest, "not-a-uuid"));

  service_.kick(host, room.id, guest.id);
  const auto kicked = hub_.events("room:" + room.id, "participant.kicked");
  ASSERT_EQ(kicked.size(), 1u);
  EXPECT_EQ(kicked[0].audience.last_for.value_or(0), guest.id);
  EXPECT_FALSE(service_.may_subscribe(guest, room.id));
  expect_error(ErrorCode::forbidden, [&] { service_.join(guest, room.id); }, "a kicked user rejoining");

  service_.leave(other, room.id);
  const auto left = hub_.events("room:" + room.id, "participant.left");
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].audience.last_for.value_or(0), other.id);

  service_.leave(host, room.id);
  const auto closed = hub_.events("room:" + room.id, "room.closed");
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].data.at("reason"), "host_left");
  expect_error(ErrorCode::not_found, [&] { service_.get(host, room.id); }, "a closed room");
}

}  // namespace
}  // namespace reelhub::rooms
