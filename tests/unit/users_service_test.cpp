// UsersService and Accounts against a real, freshly migrated PostgreSQL database: what each
// caller may see, blocks and subscriptions, search, the admin list and avatars.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>

#include "modules/users/accounts.hpp"
#include "modules/users/dto.hpp"
#include "modules/users/service.hpp"
#include "reelhub/core/error.hpp"
#include "reelhub/core/random.hpp"
#include "reelhub/metrics/registry.hpp"
#include "reelhub/storage/local_store.hpp"
#include "system.hpp"
#include "test_database.hpp"

namespace reelhub::users {
namespace {

class UsersServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { database_ = std::make_unique<reelhub::testing::TestDatabase>(); }
  static void TearDownTestSuite() { database_.reset(); }

  /// A new account (random name, so tests are independent) and the caller it would be.
  auth::AuthUser make_user(const std::string& prefix = "u", auth::Role role = auth::Role::viewer) {
    const std::string name = prefix + "_" + random_hex(5);
    const Account account = accounts_.create({name, name + "@Example.com", "not-a-real-hash", role});
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

  static std::vector<std::int64_t> ids(const std::vector<Profile>& profiles) {
    std::vector<std::int64_t> out;
    for (const auto& p : profiles) out.push_back(p.id);
    return out;
  }

  static inline std::unique_ptr<reelhub::testing::TestDatabase> database_;
  metrics::Registry metrics_;
  db::Pool pool_{db::PoolOptions{database_->url(), 2}, metrics_};
  reelhub::testing::TempDir media_{"reelhub-users-test"};
  Accounts accounts_{pool_};
  storage::LocalStore store_{media_.path(), storage::UrlSigner("users-test"), ""};
  UsersService service_{pool_, store_};
};

TEST_F(UsersServiceTest, PublicProfileHidesPrivateFields) {
  const auto alice = make_user("alice");
  const auto bob = make_user("bob");

  const Profile own = service_.own_profile(alice);
  EXPECT_EQ(own.email, alice.username + "@Example.com");
  EXPECT_EQ(own.is_active, true);
  EXPECT_EQ(own.subscriptions_count, 0);
  EXPECT_FALSE(own.avatar_url);
  const auto own_json = profile_json(own);
  for (const char* key : {"id", "username", "email", "role", "is_active", "display_name", "bio", "avatar_url",
                          "subscribers_count", "subscriptions_count", "created_at"}) {
    EXPECT_TRUE(own_json.contains(key)) << key;
  }
  EXPECT_TRUE(own_json["avatar_url"].is_null());
  EXPECT_EQ(own_json["created_at"].get<std::string>().back(), 'Z');

  const Profile seen = service_.public_profile(alice.id);
  EXPECT_EQ(seen.username, alice.username);
  EXPECT_FALSE(seen.email);
  EXPECT_FALSE(seen.is_active);
  EXPECT_FALSE(seen.subscriptions_count);
  const auto public_json = profile_json(seen);
  for (const char* key : {"email", "is_active", "subscriptions_count", "password_hash", "blocked"}) {
    EXPECT_FALSE(public_json.contains(key)) << key;
  }
  EXPECT_EQ(public_json.dump().find("@Example.com"), std::string::npos);

  // Lists of other users are public views too.
  service_.subscribe(bob, alice.id);
  const auto subscribers = service_.subscribers(alice.id, {});
  ASSERT_EQ(subscribers.users.size(), 1u);
  EXPECT_FALSE(subscribers.users[0].email);
  service_.block(alice, bob.id);
  ASSERT_EQ(service_.blocked(alice).size(), 1u);
  EXPECT_FALSE(service_.blocked(alice)[0].email);
}

TEST_F(UsersServiceTest, UnknownAndInactiveUsersAreNotFound) {
  expect_error(ErrorCode::not_found, [&] { service_.public_profile(987654321); }, "unknown id");
  const auto gone = make_user("gone");
  database_->exec("UPDATE users SET is_active = false WHERE id = " + std::to_string(gone.id));
  expect_error(ErrorCode::not_found, [&] { service_.public_profile(gone.id); }, "inactive user");
  const auto caller = make_user();
  expect_error(ErrorCode::not_found, [&] { service_.subscribe(caller, gone.id); }, "subscribe to inactive");
  expect_error(ErrorCode::not_found, [&] { service_.block(caller, 987654321); }, "block unknown");
}

TEST_F(UsersServiceTest, BlockEndsSubscriptionAndForbidsSubscribing) {
  const auto channel = make_user("chan");
  const auto fan = make_user("fan");

  EXPECT_EQ(service_.subscribe(fan, channel.id).subscribers_count, 1);
  EXPECT_EQ(service_.subscribe(fan, channel.id).subscribers_count, 1) << "subscribe is idempotent";
  EXPECT_EQ(service_.public_profile(channel.id).subscribers_count, 1);
  EXPECT_EQ(service_.own_profile(fan).subscriptions_count, 1);

  service_.block(channel, fan.id);
  service_.block(channel, fan.id);  // idempotent
  EXPECT_EQ(service_.subscribers(channel.id, {}).total, 0) << "blocking removed the subscription";
  EXPECT_EQ(ids(service_.blocked(channel)), std::vector<std::int64_t>{fan.id});
  EXPECT_TRUE(service_.blocked(fan).empty()) << "a block list is its owner's only";
  expect_error(ErrorCode::forbidden, [&] { service_.subscribe(fan, channel.id); }, "subscribe after block");

  // The blocker may still follow the blocked user; the block is one-way.
  EXPECT_EQ(service_.subscribe(channel, fan.id).subscribers_count, 1);

  service_.unblock(channel, fan.id);
  service_.unblock(channel, fan.id);  // idempotent
  EXPECT_TRUE(service_.blocked(channel).empty());
  EXPECT_EQ(service_.subscribe(fan, channel.id).subscribers_count, 1);
  EXPECT_EQ(service_.unsubscribe(fan, channel.id).subscribers_count, 0);
  EXPECT_EQ(service_.unsubscribe(fan, channel.id).subscribers_count, 0) << "unsubscribe is idempotent";

  expect_error(ErrorCode::validation_failed, [&] { service_.block(fan, fan.id); }, "block self");
  expect_error(ErrorCode::validation_failed, [&] { service_.subscribe(fan, fan.id); }, "subscribe to self");
}

TEST_F(UsersServiceTest, SubscribersArePagedNewestFirst) {
  const auto channel = make_user("chan");
  std::vector<std::int64_t> fans;
  for (int i = 0; i < 3; ++i) {
    const auto fan = make_user("fan");
    service_.subscribe(fan, channel.id);
    fans.insert(fans.begin(), fan.id);
  }
  const auto first = service_.subscribers(channel.id, {.limit = 2, .offset = 0});
  EXPECT_EQ(first.total, 3);
  EXPECT_EQ(ids(first.users), (std::vector<std::int64_t>{fans[0], fans[1]}));
  const auto rest = service_.subscribers(channel.id, {.limit = 2, .offset = 2});
  EXPECT_EQ(ids(rest.users), std::vector<std::int64_t>{fans[2]});
}

TEST_F(UsersServiceTest, SearchTreatsWildcardsLiterallyAndHidesBlocks) {
  const std::string tag = random_hex(4);
  const auto searcher = make_user("seeker");
  const auto underscore = make_user(tag + "_1");  // "<tag>_1_<hex>"
  const auto letter = make_user(tag + "x1");      // "_" must not match the "x"
  const auto percent = make_user("pct");
  service_.update_profile(percent, {.username = std::nullopt, .display_name = "100% " + tag, .bio = std::nullopt});
  const auto hundred = make_user("hundred");
  service_.update_profile(hundred, {.username = std::nullopt, .display_name = "1000 " + tag, .bio = std::nullopt});

  EXPECT_EQ(ids(service_.search(searcher, tag + "_1", {}).users), std::vector<std::int64_t>{underscore.id});
  EXPECT_EQ(ids(service_.search(searcher, "100% " + tag, {}).users), std::vector<std::int64_t>{percent.id});
  EXPECT_EQ(service_.search(searcher, tag + "%", {}).total, 0) << "% is a literal, not a wildcard";
  // Username prefixes first, then alphabetical.
  const auto all = service_.search(searcher, tag, {});
  EXPECT_EQ(all.total, 4);
  EXPECT_EQ(ids(all.users), (std::vector<std::int64_t>{underscore.id, letter.id, hundred.id, percent.id}));

  service_.block(searcher, underscore.id);  // hidden: the searcher blocked them
  service_.block(letter, searcher.id);      // hidden: they blocked the searcher
  const auto visible = service_.search(searcher, tag, {});
  EXPECT_EQ(visible.total, 2);
  EXPECT_EQ(ids(visible.users), (std::vector<std::int64_t>{hundred.id, percent.id}));
  const auto paged = service_.search(searcher, tag, {.limit = 1, .offset = 1});
  EXPECT_EQ(paged.total, 2);
  EXPECT_EQ(ids(paged.users), std::vector<std::int64_t>{percent.id});
}

TEST_F(UsersServiceTest, UpdateProfileSetsClearsAndChecksUsernames) {
  const auto user = make_user("edit");
  const auto other = make_user("taken");

  auto p = service_.update_profile(user, {.username = std::nullopt, .display_name = "Edith", .bio = "Hi\nthere"});
  EXPECT_EQ(p.display_name, "Edith");
  EXPECT_EQ(p.bio, "Hi\nthere");
  EXPECT_TRUE(p.email) << "the owner sees their own private fields";

  p = service_.update_profile(user, {.username = std::nullopt, .display_name = "", .bio = std::nullopt});
  EXPECT_FALSE(p.display_name) << "empty clears";
  EXPECT_EQ(p.bio, "Hi\nthere") << "absent keeps";

  const std::string upper = "EDIT_" + user.username.substr(5);
  EXPECT_EQ(service_.update_profile(user, {.username = upper, .display_name = std::nullopt, .bio = std::nullopt})
                .username,
            upper)
      << "changing only the case of one's own name is fine";
  try {
    service_.update_profile(user, {.username = "TAKEN" + other.username.substr(5), .display_name = std::nullopt,
                                   .bio = std::nullopt});
    ADD_FAILURE() << "took another user's name";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.code(), ErrorCode::conflict);
    EXPECT_TRUE(e.details().count("username"));
  }
}

TEST_F(UsersServiceTest, AccountsFindByLoginAndRefuseDuplicates) {
  const auto user = make_user("acct");
  const std::string email = user.username + "@Example.com";

  EXPECT_EQ(accounts_.find_by_login(user.username + "@EXAMPLE.COM")->id, user.id);
  EXPECT_EQ(accounts_.find_by_login(user.username)->id, user.id);
  EXPECT_EQ(accounts_.find_by_id(user.id)->email, email);
  EXPECT_FALSE(accounts_.find_by_id(987654321));

  try {
    accounts_.create({"fresh_" + random_hex(4), email, "h", auth::Role::viewer});
    ADD_FAILURE() << "duplicate e-mail accepted";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.code(), ErrorCode::conflict);
    EXPECT_TRUE(e.details().count("email"));
  }
  try {
    accounts_.create({user.username, "fresh_" + random_hex(4) + "@example.com", "h", auth::Role::viewer});
    ADD_FAILURE() << "duplicate username accepted";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.code(), ErrorCode::conflict);
    EXPECT_TRUE(e.details().count("username"));
  }

  EXPECT_TRUE(is_valid_username("a.b-c_9"));
  EXPECT_FALSE(is_valid_username("ab"));
  EXPECT_FALSE(is_valid_username("with space"));
  EXPECT_FALSE(is_valid_username("at@sign"));
}

TEST_F(UsersServiceTest, AdminListShowsEverythingToAdminsOnly) {
  const auto viewer = make_user("viewer");
  const auto admin = make_user("admin", auth::Role::admin);
  const auto gone = make_user("gone");
  database_->exec("UPDATE users SET is_active = false WHERE id = " + std::to_string(gone.id));

  expect_error(ErrorCode::forbidden, [&] { service_.list_all(viewer, {}); }, "viewer listing users");

  const auto page = service_.list_all(admin, {.limit = 100, .offset = 0});
  EXPECT_GE(page.total, 3);
  bool saw_gone = false;
  for (const auto& p : page.users) {
    EXPECT_TRUE(p.email && p.is_active && p.subscriptions_count) << p.username;
    if (p.id == gone.id) saw_gone = !*p.is_active;
  }
  EXPECT_TRUE(saw_gone) << "inactive accounts are listed, marked inactive";
  EXPECT_EQ(service_.list_all(admin, {.limit = 1, .offset = 0}).users.size(), 1u);
}

TEST_F(UsersServiceTest, AvatarUploadsAreVersionedJpegs) {
  const auto user = make_user("pic");
  const auto png = media_.path() / "upload.png";
  reelhub::testing::run_command(
      {"ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=320x200", "-frames:v", "1", png.string()});
  std::ifstream in(png, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());

  const std::string first = service_.upload_avatar(user, bytes);
  EXPECT_EQ(first, "/users/" + std::to_string(user.id) + "/avatar?v=1");
  EXPECT_EQ(service_.upload_avatar(user, bytes), "/users/" + std::to_string(user.id) + "/avatar?v=2");
  EXPECT_EQ(service_.public_profile(user.id).avatar_url, "/users/" + std::to_string(user.id) + "/avatar?v=2");

  const auto path = *store_.local_file(UsersService::avatar_key(user.id));
  EXPECT_EQ(path, media_.path() / "avatars" / (std::to_string(user.id) + ".jpg"));
  std::ifstream stored(path, std::ios::binary);
  char magic[2] = {};
  stored.read(magic, 2);
  EXPECT_EQ(std::string(magic, 2), "\xFF\xD8");
  using std::filesystem::directory_iterator;
  EXPECT_EQ(std::distance(directory_iterator(path.parent_path()), directory_iterator{}), 1)
      << "no temporary files left behind";

  expect_error(ErrorCode::unsupported_media_type, [&] { service_.upload_avatar(user, "GIF89a not really"); },
               "non-image");
  EXPECT_EQ(service_.own_profile(user).avatar_url, "/users/" + std::to_string(user.id) + "/avatar?v=2")
      << "a refused upload changes nothing";
}

}  // namespace
}  // namespace reelhub::users
