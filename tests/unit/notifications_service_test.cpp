// NotificationService against a real, freshly migrated PostgreSQL database with a hub that
// records what is pushed: storing and pushing, per-type settings, pages, read state, push tokens,
// and the new-subscriber producer wired through the users module's hook.

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>

#include "modules/notifications/dto.hpp"
#include "modules/notifications/service.hpp"
#include "modules/users/accounts.hpp"
#include "modules/users/service.hpp"
#include "recording_hub.hpp"
#include "reelhub/core/error.hpp"
#include "reelhub/core/random.hpp"
#include "reelhub/metrics/registry.hpp"
#include "reelhub/storage/local_store.hpp"
#include "system.hpp"
#include "test_database.hpp"

namespace reelhub::notifications {
namespace {

using reelhub::testing::RecordingHub;

class NotificationServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { database_ = std::make_unique<reelhub::testing::TestDatabase>(); }
  static void TearDownTestSuite() { database_.reset(); }

  auth::AuthUser make_user(const std::string& prefix = "u") {
    const std::string name = prefix + "_" + random_hex(5);
    const auto account = accounts_.create({name, name + "@example.com", "not-a-real-hash", auth::Role::viewer});
    return auth::AuthUser{account.id, account.username, account.role, "session"};
  }

  static void expect_error(ErrorCode code, const std::function<void()>& fn, const std::string& what) {
    try {
      fn();
      ADD_FAILURE() << what << ": no error";
    } catch (const ApiError& e) {
      EXPECT_EQ(e.code(), code) << what << ": " << e.what();
    }
  }

  static std::string user_topic(const auth::AuthUser& user) { return "user:" + std::to_string(user.id); }

  static inline std::unique_ptr<reelhub::testing::TestDatabase> database_;
  metrics::Registry metrics_;
  db::Pool pool_{db::PoolOptions{database_->url(), 2}, metrics_};
  // Where the users service keeps avatars, which these tests never upload.
  reelhub::testing::TempDir avatar_dir_{"reelhub-notifications-avatars"};
  storage::LocalStore avatar_store_{avatar_dir_.path(), storage::UrlSigner("unused"), ""};
  users::Accounts accounts_{pool_};
  RecordingHub hub_;
  NotificationService service_{pool_, hub_};
};

TEST_F(NotificationServiceTest, NotifyStoresAndPushesLive) {
  const auto bob = make_user("bob");
  const auto stored = service_.notify(bob.id, Type::new_subscriber, {{"subscriber_id", 7}});
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->type, Type::new_subscriber);
  EXPECT_EQ(stored->data, nlohmann::json({{"subscriber_id", 7}}));
  EXPECT_FALSE(stored->is_read);
  EXPECT_EQ(stored->created_at.back(), 'Z');

  const auto pushed = hub_.events(user_topic(bob), "notification.new");
  ASSERT_EQ(pushed.size(), 1u);
  EXPECT_EQ(pushed[0].data, notification_json(*stored));

  const Page page = service_.list(bob, {});
  ASSERT_EQ(page.notifications.size(), 1u);
  EXPECT_EQ(page.notifications[0].id, stored->id);
  EXPECT_EQ(page.unread_count, 1);
}

TEST_F(NotificationServiceTest, NotifyNeverThrows) {
  // No such user: the insert fails on the foreign key, and the producer is not told.
  EXPECT_FALSE(service_.notify(987654321, Type::donation, {}));
  EXPECT_TRUE(hub_.events("user:987654321").empty());
}

TEST_F(NotificationServiceTest, SettingsTurnTypesOff) {
  const auto bob = make_user("bob");
  const Settings defaults = service_.settings(bob);
  ASSERT_EQ(defaults.size(), all_types().size());
  for (const auto& [type, enabled] : defaults) EXPECT_TRUE(enabled) << type_name(type);

  const Settings updated = service_.update_settings(bob, {{Type::new_subscriber, false}});
  EXPECT_FALSE(updated.at(Type::new_subscriber));
  EXPECT_TRUE(updated.at(Type::direct_message));
  EXPECT_EQ(service_.settings(bob), updated);

  EXPECT_FALSE(service_.notify(bob.id, Type::new_subscriber, {}));
  EXPECT_TRUE(service_.notify(bob.id, Type::direct_message, {}));
  EXPECT_EQ(service_.list(bob, {}).notifications.size(), 1u);
  EXPECT_EQ(hub_.events(user_topic(bob)).size(), 1u) << "a suppressed notification is not pushed either";

  service_.update_settings(bob, {{Type::new_subscriber, true}});
  EXPECT_TRUE(service_.notify(bob.id, Type::new_subscriber, {}));
}

TEST_F(NotificationServiceTest, PagesNewestFirstWithUnreadFilter) {
  const auto bob = make_user("bob");
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(service_.notify(bob.id, Type::donation, {{"n", i}})->id);
  service_.mark_read(bob, ids[3]);

  Page page = service_.list(bob, {.limit = 2});
  ASSERT_EQ(page.notifications.size(), 2u);
  EXPECT_EQ(page.notifications[0].id, ids[4]);
  EXPECT_EQ(page.notifications[1].id, ids[3]);
  EXPECT_TRUE(page.notifications[1].is_read);
  EXPECT_EQ(page.unread_count, 4);
  ASSERT_TRUE(page.next_cursor);
  page = service_.list(bob, {.cursor = page.next_cursor, .limit = 2});
  ASSERT_EQ(page.notifications.size(), 2u);
  EXPECT_EQ(page.notifications[0].id, ids[2]);
  page = service_.list(bob, {.cursor = page.next_cursor, .limit = 2});
  ASSERT_EQ(page.notifications.size(), 1u);
  EXPECT_EQ(page.notifications[0].id, ids[0]);
  EXPECT_FALSE(page.next_cursor);

  page = service_.list(bob, {.unread_only = true});
  ASSERT_EQ(page.notifications.size(), 4u);
  for (const auto& n : page.notifications) EXPECT_NE(n.id, ids[3]);

  const auto alice = make_user("alice");
  expect_error(ErrorCode::validation_failed, [&] { service_.list(alice, {.cursor = ids[2]}); },
               "another user's notification as cursor");
  expect_error(ErrorCode::validation_failed, [&] { service_.list(bob, {.cursor = "x"}); }, "garbage cursor");
}

TEST_F(NotificationServiceTest, ReadOneAndAll) {
  const auto bob = make_user("bob");
  const auto alice = make_user("alice");
  const auto first = service_.notify(bob.id, Type::room_invite, {})->id;
  service_.notify(bob.id, Type::room_invite, {});
  service_.notify(bob.id, Type::room_invite, {});

  EXPECT_TRUE(service_.mark_read(bob, first).is_read);
  EXPECT_TRUE(service_.mark_read(bob, first).is_read) << "idempotent";
  expect_error(ErrorCode::not_found, [&] { service_.mark_read(alice, first); }, "someone else's");
  expect_error(ErrorCode::not_found, [&] { service_.mark_read(bob, "not-a-uuid"); }, "garbage id");
  EXPECT_EQ(service_.list(bob, {}).unread_count, 2);

  EXPECT_EQ(service_.mark_all_read(bob), 2);
  EXPECT_EQ(service_.mark_all_read(bob), 0);
  EXPECT_EQ(service_.list(bob, {}).unread_count, 0);
}

TEST_F(NotificationServiceTest, PushTokensAreOnePerDevice) {
  const auto bob = make_user("bob");
  const auto alice = make_user("alice");
  EXPECT_TRUE(service_.register_push_token(bob, "device-1", Platform::ios));
  EXPECT_FALSE(service_.register_push_token(bob, "device-1", Platform::ios)) << "the same device again";
  EXPECT_TRUE(service_.register_push_token(alice, "device-1", Platform::ios)) << "the device switched accounts";
  EXPECT_FALSE(service_.register_push_token(alice, "device-1", Platform::ios));
  EXPECT_TRUE(service_.register_push_token(bob, "device-1", Platform::ios)) << "and back";

  // Beyond the cap the stalest tokens go, so re-registering an early one counts as new again.
  for (int i = 0; i < NotificationService::kMaxPushTokens + 5; ++i) {
    service_.register_push_token(alice, "alice-device-" + std::to_string(i), Platform::android);
  }
  EXPECT_TRUE(service_.register_push_token(alice, "alice-device-0", Platform::android));
  EXPECT_FALSE(service_.register_push_token(alice, "alice-device-" + std::to_string(NotificationService::kMaxPushTokens + 4),
                                            Platform::android));
}

TEST_F(NotificationServiceTest, NewSubscriberThroughTheUsersHook) {
  // Wired as main wires it.
  users::UsersService users(pool_, avatar_store_, std::bind_front(&NotificationService::notify_new_subscriber, &service_));
  const auto channel = make_user("channel");
  const auto fan = make_user("fan");
  users.subscribe(fan, channel.id);
  users.subscribe(fan, channel.id);  // repeated: no second notification

  const auto stored = service_.list(channel, {}).notifications;
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].type, Type::new_subscriber);
  EXPECT_EQ(stored[0].data["subscriber_id"], fan.id);
  EXPECT_EQ(stored[0].data["subscriber_username"], fan.username);

  users.unsubscribe(fan, channel.id);
  users.subscribe(fan, channel.id);
  EXPECT_EQ(service_.list(channel, {}).notifications.size(), 2u) << "subscribing anew is news again";
}

}  // namespace
}  // namespace reelhub::notifications
