// The notifications endpoints end to end over HTTP (seed 000): producers (a new subscriber, a
// direct message to a user with no open socket), pages, read and read-all, per-type settings
// that suppress, and device push tokens stored once per device.

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "expectations.hpp"
#include "stack.hpp"
#include "system.hpp"
#include "users.hpp"

namespace reelhub::testing {
namespace {

class NotificationsTest : public StackTest {
 protected:
  static TestUser new_user(const std::string& prefix = "ntf") { return register_and_login(http(), prefix); }

  static nlohmann::json list(const TestUser& who, const std::string& query = "") {
    auto res = http().get("/notifications" + query, who.auth());
    EXPECT_EQ(res.status, 200) << res;
    return res.json();
  }

  static void subscribe(const TestUser& fan, const TestUser& channel) {
    auto res = http().post_json("/users/" + std::to_string(channel.id) + "/subscribe", nlohmann::json::object(),
                                fan.auth());
    ASSERT_EQ(res.status, 200) << res;
  }
};

TEST_F(NotificationsTest, NewSubscriberCreatesOne) {
  const TestUser channel = new_user(), fan = new_user();
  subscribe(fan, channel);
  subscribe(fan, channel);  // again: already subscribed, nothing new

  const auto body = list(channel);
  ASSERT_EQ(body.at("notifications").size(), 1u) << body;
  const auto& n = body["notifications"][0];
  EXPECT_EQ(n.at("type"), "new_subscriber");
  EXPECT_EQ(n.at("data").at("subscriber_id"), fan.id) << n;
  EXPECT_EQ(n.at("data").at("subscriber_username"), fan.username) << n;
  EXPECT_EQ(n.at("is_read"), false);
  EXPECT_TRUE(is_iso8601_utc(n.at("created_at").get<std::string>())) << n;
  EXPECT_EQ(body.at("unread_count"), 1);
  EXPECT_TRUE(body.at("next_cursor").is_null()) << body;
  EXPECT_TRUE(list(fan).at("notifications").empty()) << "nobody else is told";
}

TEST_F(NotificationsTest, DirectMessageToAnOfflineUserCreatesOne) {
  const TestUser a = new_user(), b = new_user();
  auto chat = http().post_json("/chats/create", {{"type", "direct"}, {"member_ids", {b.id}}}, a.auth());
  ASSERT_EQ(chat.status, 201) << chat;
  const std::string chat_id = chat.json()["id"];
  auto sent = http().post_json("/chats/" + chat_id + "/send", {{"text", "are you there?"}}, a.auth());
  ASSERT_EQ(sent.status, 201) << sent;

  // b has no WebSocket open, so the message is also a stored notification.
  const auto body = list(b);
  ASSERT_EQ(body.at("notifications").size(), 1u) << body;
  const auto& n = body["notifications"][0];
  EXPECT_EQ(n.at("type"), "direct_message");
  EXPECT_EQ(n.at("data").at("chat_id"), chat_id);
  EXPECT_EQ(n.at("data").at("message_id"), sent.json()["id"]);
  EXPECT_EQ(n.at("data").at("sender_id"), a.id);
  EXPECT_EQ(n.at("data").at("preview"), "are you there?");
}

TEST_F(NotificationsTest, ReadOneThenReadAll) {
  const TestUser channel = new_user();
  for (int i = 0; i < 3; ++i) subscribe(new_user(), channel);
  auto body = list(channel);
  ASSERT_EQ(body.at("notifications").size(), 3u) << body;
  const std::string first = body["notifications"][0]["id"];

  auto read = http().post_json("/notifications/" + first + "/read", nlohmann::json::object(), channel.auth());
  ASSERT_EQ(read.status, 200) << read;
  EXPECT_EQ(read.json().at("id"), first);
  EXPECT_EQ(read.json().at("is_read"), true);
  EXPECT_EQ(list(channel).at("unread_count"), 2);
  EXPECT_EQ(list(channel, "?unread_only=true").at("notifications").size(), 2u);

  const TestUser stranger = new_user();
  EXPECT_TRUE(is_api_error(http().post_json("/notifications/" + first + "/read", nlohmann::json::object(),
                                            stranger.auth()),
                           404));
  EXPECT_TRUE(is_api_error(
      http().post_json("/notifications/not-a-uuid/read", nlohmann::json::object(), channel.auth()), 404));

  auto all = http().post_json("/notifications/read-all", nlohmann::json::object(), channel.auth());
  ASSERT_EQ(all.status, 200) << all;
  EXPECT_EQ(all.json().at("updated"), 2);
  body = list(channel);
  EXPECT_EQ(body.at("unread_count"), 0);
  for (const auto& n : body["notifications"]) EXPECT_EQ(n.at("is_read"), true) << n;
}

TEST_F(NotificationsTest, PagesWithACursor) {
  const TestUser channel = new_user();
  for (int i = 0; i < 5; ++i) subscribe(new_user(), channel);
  std::vector<std::string> ids;
  auto page = list(channel, "?limit=2");
  while (true) {
    for (const auto& n : page.at("notifications")) ids.push_back(n["id"]);
    if (page.at("next_cursor").is_null()) break;
    page = list(channel, "?limit=2&cursor=" + page["next_cursor"].get<std::string>());
  }
  EXPECT_EQ(ids.size(), 5u);
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 5u);

  EXPECT_TRUE(is_api_error(http().get("/notifications?cursor=nope", channel.auth()), 422));
  EXPECT_TRUE(is_api_error(http().get("/notifications?limit=500", channel.auth()), 422));
  EXPECT_TRUE(is_api_error(http().get("/notifications?unread_only=maybe", channel.auth()), 422));
  EXPECT_TRUE(is_api_error(http().get("/notifications"), 401));
}

TEST_F(NotificationsTest, DisabledTypeIsSuppressed) {
  const TestUser channel = new_user();
  auto settings = http().get("/notifications/settings", channel.auth());
  ASSERT_EQ(settings.status, 200) << settings;
  for (const char* type :
       {"direct_message", "new_subscriber", "room_invite", "stream_live", "donation", "chat_invite"}) {
    EXPECT_EQ(settings.json().at(type), true) << settings;
  }

  auto put = http().send_json("PUT", "/notifications/settings", {{"new_subscriber", false}}, channel.auth());
  ASSERT_EQ(put.status, 200) << put;
  EXPECT_EQ(put.json().at("new_subscriber"), false);
  EXPECT_EQ(put.json().at("donation"), true) << "types not in the request keep their value";
  EXPECT_EQ(http().get("/notifications/settings", channel.auth()).json().at("new_subscriber"), false);

  subscribe(new_user(), channel);
  EXPECT_TRUE(list(channel).at("notifications").empty());

  ASSERT_EQ(http().send_json("PUT", "/notifications/settings", {{"new_subscriber", true}}, channel.auth()).status, 200);
  subscribe(new_user(), channel);
  EXPECT_EQ(list(channel).at("notifications").size(), 1u);

  auto bad = http().send_json("PUT", "/notifications/settings", {{"carrier_pigeon", true}, {"donation", "no"}},
                              channel.auth());
  ASSERT_TRUE(is_api_error(bad, 422));
  EXPECT_TRUE(bad.json().at("details").contains("carrier_pigeon")) << bad;
  EXPECT_TRUE(bad.json().at("details").contains("donation")) << bad;
  EXPECT_TRUE(is_api_error(http().request("PUT", "/notifications/settings", "[1]", channel.auth()), 400));
}

TEST_F(NotificationsTest, PushTokenIsStoredOncePerDevice) {
  const TestUser a = new_user(), b = new_user();
  const nlohmann::json token = {{"token", "fcm-" + random_hex(16)}, {"platform", "android"}};
  auto first = http().post_json("/notifications/push-token", token, a.auth());
  ASSERT_EQ(first.status, 201) << first;
  EXPECT_EQ(first.json().at("platform"), "android");
  EXPECT_EQ(http().post_json("/notifications/push-token", token, a.auth()).status, 200) << "deduplicated";
  EXPECT_EQ(http().post_json("/notifications/push-token", token, b.auth()).status, 201)
      << "the device now belongs to another account";

  for (const auto& body : {nlohmann::json{{"platform", "ios"}}, nlohmann::json{{"token", "t"}},
                           nlohmann::json{{"token", "t"}, {"platform", "symbian"}},
                           nlohmann::json{{"token", ""}, {"platform", "web"}}}) {
    EXPECT_TRUE(is_api_error(http().post_json("/notifications/push-token", body, a.auth()), 422)) << body;
  }
  EXPECT_TRUE(is_api_error(http().post_json("/notifications/push-token", token), 401));
}

}  // namespace
}  // namespace reelhub::testing
