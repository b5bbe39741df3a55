// The users endpoints end to end over HTTP (API.md "Users"): profiles, search, blocks,
// subscriptions, the admin list and avatar uploads. Nobody's e-mail leaks to another user.

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "expectations.hpp"
#include "stack.hpp"
#include "system.hpp"
#include "users.hpp"

namespace reelhub::testing {
namespace {

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

/// One frame of a solid colour encoded by the ffmpeg CLI (`extension` picks the format).
std::string ffmpeg_image(const std::string& size, const std::string& extension) {
  TempDir dir("reelhub-img");
  const auto path = dir.path() / ("image." + extension);
  run_command({"ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc=size=" + size,
               "-frames:v", "1", path.string()});
  return read_file(path);
}

/// Width and height from a JPEG's start-of-frame marker; throws when `data` is not a JPEG.
std::pair<int, int> jpeg_dimensions(const std::string& data) {
  auto byte = [&](std::size_t i) { return static_cast<unsigned>(static_cast<unsigned char>(data.at(i))); };
  if (data.size() < 4 || byte(0) != 0xFF || byte(1) != 0xD8) throw std::runtime_error("not a JPEG (no SOI marker)");
  std::size_t i = 2;
  while (i + 8 < data.size()) {
    if (byte(i) != 0xFF) throw std::runtime_error("corrupt JPEG segment at " + std::to_string(i));
    const unsigned marker = byte(i + 1);
    if (marker == 0xFF) {  // fill byte
      ++i;
      continue;
    }
    const bool start_of_frame = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (start_of_frame) {
      return {static_cast<int>(byte(i + 7) << 8 | byte(i + 8)), static_cast<int>(byte(i + 5) << 8 | byte(i + 6))};
    }
    i += 2 + (byte(i + 2) << 8 | byte(i + 3));
  }
  throw std::runtime_error("JPEG without a start-of-frame marker");
}

/// True when some element of `list` has "id" == `id`.
bool lists_id(const nlohmann::json& list, std::int64_t id) {
  return std::any_of(list.begin(), list.end(), [&](const nlohmann::json& u) { return u.value("id", 0LL) == id; });
}

/// A profile as another user sees it: no e-mail, no secrets.
::testing::AssertionResult is_public(const nlohmann::json& profile) {
  for (const char* secret : {"email", "password", "password_hash", "refresh_token", "access_token"}) {
    if (profile.contains(secret)) return ::testing::AssertionFailure() << "exposes '" << secret << "': " << profile;
  }
  return ::testing::AssertionSuccess();
}

class UsersTest : public StackTest {
 protected:
  static TestUser new_user(const std::string& prefix = "usr") { return register_and_login(http(), prefix); }

  static void promote_to_admin(TestUser& user) {
    // Admins cannot self-register: promote in the database, then log in for a token with the new role.
    stack().db.exec("UPDATE users SET role = 'admin' WHERE id = " + std::to_string(user.id));
    log_in(http(), user);
  }

  static HttpResponse upload_avatar(const TestUser& user, const std::string& filename, const std::string& type,
                                    const std::string& data) {
    Multipart form;
    form.file("file", filename, type, data);
    auto headers = user.auth();
    headers["Content-Type"] = form.content_type();
    return http().request("POST", "/users/upload-avatar", form.body(), headers);
  }

  static nlohmann::json subscribers_of(std::int64_t channel) {
    auto res = http().get("/users/" + std::to_string(channel) + "/subscribers");
    EXPECT_EQ(res.status, 200) << res;
    return res.json();
  }
};

// ---- profile

TEST_F(UsersTest, OwnProfileShowsPrivateFields) {
  const TestUser u = new_user();
  auto res = http().get("/users/profile", u.auth());
  ASSERT_EQ(res.status, 200) << res;
  ASSERT_TRUE(is_json(res));
  const auto body = res.json();
  ASSERT_TRUE(body.at("id").is_number_integer()) << body;
  EXPECT_EQ(body["id"].get<std::int64_t>(), u.id);
  EXPECT_EQ(body.at("username"), u.username);
  EXPECT_EQ(body.at("email"), u.email);
  EXPECT_EQ(body.at("role"), "viewer");
  EXPECT_TRUE(is_iso8601_utc(body.at("created_at").get<std::string>())) << body;
  EXPECT_FALSE(body.contains("password_hash")) << body;

  EXPECT_TRUE(is_api_error(http().get("/users/profile"), 401));
}

TEST_F(UsersTest, PatchProfileUpdatesAndPersists) {
  TestUser u = new_user();
  auto res = http().send_json("PATCH", "/users/profile", {{"display_name", "Ann Example"}, {"bio", "line one\nline two"}},
                              u.auth());
  ASSERT_EQ(res.status, 200) << res;
  EXPECT_EQ(res.json().at("display_name"), "Ann Example");
  EXPECT_EQ(res.json().at("bio"), "line one\nline two");

  auto again = http().get("/users/profile", u.auth());
  EXPECT_EQ(again.json().at("display_name"), "Ann Example") << again;
  EXPECT_EQ(again.json().at("bio"), "line one\nline two") << again;
  EXPECT_EQ(again.json().at("email"), u.email) << "fields not in the PATCH stay as they were";

  // Renaming: the new name logs in, a taken name is a conflict, an invalid one a 422.
  const std::string renamed = unique_username("renamed");
  auto rename = http().send_json("PATCH", "/users/profile", {{"username", renamed}}, u.auth());
  ASSERT_EQ(rename.status, 200) << rename;
  EXPECT_EQ(rename.json().at("username"), renamed);
  auto login = http().post_json("/auth/login", {{"username", renamed}, {"password", u.password}});
  EXPECT_EQ(login.status, 200) << login;

  const TestUser other = new_user();
  EXPECT_TRUE(is_api_error(http().send_json("PATCH", "/users/profile", {{"username", other.username}}, u.auth()), 409));
  auto invalid = http().send_json("PATCH", "/users/profile", {{"username", "a"}}, u.auth());
  ASSERT_TRUE(is_api_error(invalid, 422));
  EXPECT_TRUE(invalid.json().at("details").contains("username")) << invalid;
  EXPECT_TRUE(is_api_error(http().request("PATCH", "/users/profile", "{oops", u.auth()), 400));
  EXPECT_TRUE(is_api_error(http().send_json("PATCH", "/users/profile", {{"bio", "x"}}), 401));
}

TEST_F(UsersTest, PublicProfileHidesEmail) {
  const TestUser viewer = new_user(), subject = new_user();
  auto res = http().get("/users/" + std::to_string(subject.id), viewer.auth());
  ASSERT_EQ(res.status, 200) << res;
  EXPECT_EQ(res.json().at("id").get<std::int64_t>(), subject.id);
  EXPECT_EQ(res.json().at("username"), subject.username);
  EXPECT_TRUE(is_public(res.json()));

  auto anonymous = http().get("/users/" + std::to_string(subject.id));
  ASSERT_EQ(anonymous.status, 200) << anonymous;
  EXPECT_TRUE(is_public(anonymous.json()));

  EXPECT_TRUE(is_api_error(http().get("/users/999999999"), 404));
  EXPECT_TRUE(is_api_error(http().get("/users/not-a-number"), 404));
}

// ---- search

TEST_F(UsersTest, SearchFindsUsersWithoutTheirEmail) {
  const std::string tag = "s" + random_hex(3);
  const TestUser a = new_user(tag + "a"), b = new_user(tag + "b"), searcher = new_user();
  auto res = http().get("/users/search?q=" + tag, searcher.auth());
  ASSERT_EQ(res.status, 200) << res;
  const auto body = res.json();
  ASSERT_TRUE(body.at("users").is_array()) << body;
  EXPECT_TRUE(lists_id(body["users"], a.id)) << body;
  EXPECT_TRUE(lists_id(body["users"], b.id)) << body;
  EXPECT_EQ(body.at("total").get<std::int64_t>(), 2) << body;
  for (const auto& u : body["users"]) EXPECT_TRUE(is_public(u));

  auto limited = http().get("/users/search?q=" + tag + "&limit=1", searcher.auth());
  ASSERT_EQ(limited.status, 200) << limited;
  EXPECT_EQ(limited.json().at("users").size(), 1u) << limited;

  auto empty = http().get("/users/search?q=", searcher.auth());
  EXPECT_TRUE(is_api_error(empty, 422));
}

// ---- blocks and subscriptions

TEST_F(UsersTest, BlockUnblockAndBlockedList) {
  const TestUser a = new_user(), b = new_user();
  auto block = http().post_json("/users/block", {{"user_id", b.id}}, a.auth());
  ASSERT_EQ(block.status, 200) << block;
  EXPECT_EQ(http().post_json("/users/block", {{"user_id", b.id}}, a.auth()).status, 200) << "blocking is idempotent";

  auto list = http().get("/users/blocked", a.auth());
  ASSERT_EQ(list.status, 200) << list;
  const auto users = list.json().at("users");
  EXPECT_TRUE(lists_id(users, b.id)) << list;
  EXPECT_EQ(users.size(), 1u) << list;
  for (const auto& u : users) EXPECT_TRUE(is_public(u));

  // Nobody else reads a's list: b's own list is empty.
  auto theirs = http().get("/users/blocked", b.auth());
  ASSERT_EQ(theirs.status, 200) << theirs;
  EXPECT_TRUE(theirs.json().at("users").empty()) << theirs;

  auto unblock = http().post_json("/users/unblock", {{"user_id", b.id}}, a.auth());
  ASSERT_EQ(unblock.status, 200) << unblock;
  EXPECT_TRUE(http().get("/users/blocked", a.auth()).json().at("users").empty());

  EXPECT_TRUE(is_api_error(http().post_json("/users/block", {{"user_id", a.id}}, a.auth()), 422))
      << "blocking yourself";
  EXPECT_TRUE(is_api_error(http().post_json("/users/block", {{"user_id", 999999999}}, a.auth()), 404));
  auto missing = http().post_json("/users/block", nlohmann::json::object(), a.auth());
  ASSERT_TRUE(is_api_error(missing, 422));
  EXPECT_TRUE(missing.json().at("details").contains("user_id")) << missing;
  EXPECT_TRUE(is_api_error(http().post_json("/users/block", {{"user_id", b.id}}), 401));
}

TEST_F(UsersTest, SubscribeUnsubscribeAndSubscribers) {
  const TestUser channel = new_user("chan"), fan = new_user("fan");
  const std::string path = "/users/" + std::to_string(channel.id) + "/subscribe";

  auto sub = http().request("POST", path, "", fan.auth());
  ASSERT_EQ(sub.status, 200) << sub;
  EXPECT_EQ(sub.json().at("channel_id").get<std::int64_t>(), channel.id);
  EXPECT_EQ(sub.json().at("subscribers_count").get<std::int64_t>(), 1);
  auto twice = http().request("POST", path, "", fan.auth());
  EXPECT_EQ(twice.status, 200) << twice;
  EXPECT_EQ(twice.json().at("subscribers_count").get<std::int64_t>(), 1) << "subscribing is idempotent";

  auto subs = subscribers_of(channel.id);
  EXPECT_TRUE(lists_id(subs.at("subscribers"), fan.id)) << subs;
  EXPECT_EQ(subs.at("total").get<std::int64_t>(), 1) << subs;
  for (const auto& u : subs["subscribers"]) EXPECT_TRUE(is_public(u));
  EXPECT_EQ(http().get("/users/" + std::to_string(channel.id)).json().at("subscribers_count").get<std::int64_t>(), 1);

  auto unsub = http().del(path, fan.auth());
  ASSERT_EQ(unsub.status, 200) << unsub;
  EXPECT_EQ(unsub.json().at("subscribers_count").get<std::int64_t>(), 0);
  EXPECT_TRUE(subscribers_of(channel.id).at("subscribers").empty());

  EXPECT_TRUE(is_api_error(http().request("POST", "/users/" + std::to_string(fan.id) + "/subscribe", "", fan.auth()),
                           422))
      << "subscribing to yourself";
  EXPECT_TRUE(is_api_error(http().request("POST", "/users/999999999/subscribe", "", fan.auth()), 404));
  EXPECT_TRUE(is_api_error(http().request("POST", path, ""), 401));
}

TEST_F(UsersTest, BlockedUserCannotSubscribe) {
  const TestUser channel = new_user("chan"), fan = new_user("fan");
  const std::string path = "/users/" + std::to_string(channel.id) + "/subscribe";
  ASSERT_EQ(http().request("POST", path, "", fan.auth()).status, 200);

  ASSERT_EQ(http().post_json("/users/block", {{"user_id", fan.id}}, channel.auth()).status, 200);
  EXPECT_FALSE(lists_id(subscribers_of(channel.id).at("subscribers"), fan.id))
      << "a block ends the blocked user's subscription";
  EXPECT_TRUE(is_api_error(http().request("POST", path, "", fan.auth()), 403));

  ASSERT_EQ(http().post_json("/users/unblock", {{"user_id", fan.id}}, channel.auth()).status, 200);
  EXPECT_EQ(http().request("POST", path, "", fan.auth()).status, 200);
}

// ---- admin list

TEST_F(UsersTest, AdminListIsForAdminsOnly) {
  const TestUser viewer = new_user();
  TestUser admin = new_user("admin");
  EXPECT_TRUE(is_api_error(http().get("/users", viewer.auth()), 403));
  EXPECT_TRUE(is_api_error(http().get("/users", admin.auth()), 403)) << "still a viewer before promotion";
  EXPECT_TRUE(is_api_error(http().get("/users"), 401));

  promote_to_admin(admin);
  auto res = http().get("/users", admin.auth());
  ASSERT_EQ(res.status, 200) << res;
  const auto body = res.json();
  ASSERT_TRUE(body.at("users").is_array()) << body;
  EXPECT_TRUE(lists_id(body["users"], viewer.id)) << body;
  EXPECT_GE(body.at("total").get<std::int64_t>(), 2) << body;
  EXPECT_EQ(body.at("limit").get<std::int64_t>(), 50) << body;
  EXPECT_EQ(body.at("offset").get<std::int64_t>(), 0) << body;

  auto page = http().get("/users?limit=1&offset=1", admin.auth());
  ASSERT_EQ(page.status, 200) << page;
  EXPECT_EQ(page.json().at("users").size(), 1u) << page;
  EXPECT_EQ(page.json().at("limit").get<std::int64_t>(), 1) << page;
  EXPECT_EQ(page.json().at("offset").get<std::int64_t>(), 1) << page;
  EXPECT_TRUE(is_api_error(http().get("/users?limit=101", admin.auth()), 422)) << "limit is at most 100";
  EXPECT_TRUE(is_api_error(http().get("/users?limit=abc", admin.auth()), 422));
}

// ---- avatars

TEST_F(UsersTest, AvatarPngBecomesA256SquareJpeg) {
  const TestUser u = new_user();
  auto res = upload_avatar(u, "me.png", "image/png", ffmpeg_image("640x480", "png"));
  ASSERT_EQ(res.status, 200) << res;
  const std::string url = res.json().at("avatar_url");
  EXPECT_EQ(http().get("/users/profile", u.auth()).json().at("avatar_url"), url);

  auto image = http().get(url);
  ASSERT_EQ(image.status, 200) << image;
  EXPECT_EQ(image.header("Content-Type"), "image/jpeg") << image.header("Content-Type");
  EXPECT_EQ(jpeg_dimensions(image.body), (std::pair<int, int>{256, 256}));
}

TEST_F(UsersTest, AvatarJpegIsAcceptedAndReplacesThePrevious) {
  const TestUser u = new_user();
  auto first = upload_avatar(u, "a.png", "image/png", ffmpeg_image("300x300", "png"));
  ASSERT_EQ(first.status, 200) << first;
  // Fetched on several connections, so every io thread holds the file open in its cache of
  // descriptors; the replaced file must be served all the same.
  HttpResponse before;
  for (int i = 0; i < 8; ++i) {
    before = http().get(first.json().at("avatar_url"));
    ASSERT_EQ(before.status, 200) << before;
  }
  auto second = upload_avatar(u, "b.jpg", "image/jpeg", ffmpeg_image("200x400", "jpg"));
  ASSERT_EQ(second.status, 200) << second;
  EXPECT_NE(first.json().at("avatar_url"), second.json().at("avatar_url"))
      << "a new upload needs a new URL, or caches keep the old picture";
  for (int i = 0; i < 8; ++i) {
    auto image = http().get(second.json().at("avatar_url"));
    ASSERT_EQ(image.status, 200) << image;
    EXPECT_EQ(jpeg_dimensions(image.body), (std::pair<int, int>{256, 256}));
    EXPECT_NE(image.body, before.body) << "the old picture was sent from a descriptor kept open";
    EXPECT_NE(image.header("ETag"), before.header("ETag"));
  }
}

TEST_F(UsersTest, AvatarThatIsNotAnImageIs415) {
  const TestUser u = new_user();
  EXPECT_TRUE(is_api_error(upload_avatar(u, "notes.txt", "text/plain", "just some text, not an image\n"), 415));
  // The declared type does not matter: the bytes are checked.
  EXPECT_TRUE(is_api_error(upload_avatar(u, "fake.png", "image/png", "\x89PNG\r\n\x1a\n but then garbage"), 415));
  EXPECT_TRUE(http().get("/users/profile", u.auth()).json().at("avatar_url").is_null()) << "no avatar was stored";
  EXPECT_TRUE(is_api_error(http().get("/users/" + std::to_string(u.id) + "/avatar"), 404));
}

TEST_F(UsersTest, AvatarOver5MBIs413) {
  const TestUser u = new_user();
  // A valid PNG followed by padding (decoders stop at IEND) to one byte over 5 MiB.
  std::string big = ffmpeg_image("64x64", "png");
  big.resize((5u << 20) + 1, '\0');
  EXPECT_TRUE(is_api_error(upload_avatar(u, "big.png", "image/png", big), 413));
  // Far over the limit: refused from the Content-Length, before the body is read.
  big.resize(12u << 20, '\0');
  EXPECT_TRUE(is_api_error(upload_avatar(u, "huge.png", "image/png", big), 413));
  EXPECT_TRUE(http().get("/users/profile", u.auth()).json().at("avatar_url").is_null());
}

TEST_F(UsersTest, AvatarUploadNeedsAToken) {
  Multipart form;
  form.file("file", "me.png", "image/png", ffmpeg_image("64x64", "png"));
  auto res = http().request("POST", "/users/upload-avatar", form.body(), {{"Content-Type", form.content_type()}});
  EXPECT_TRUE(is_api_error(res, 401));
}

}  // namespace
}  // namespace reelhub::testing
