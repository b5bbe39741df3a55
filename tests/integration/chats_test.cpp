// The chats endpoints end to end over HTTP and the WebSocket (API.md "Chats"): direct and group
// chats, idempotent sends, membership on every read, write and subscription, blocks, history pages
// that stay exact while others write, reconnect recovery (hub offsets and `after=`), read markers
// and unread counts, live `message.new`/`message.read`/`typing` events, and the send rate limit.

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "expectations.hpp"
#include "stack.hpp"
#include "system.hpp"
#include "users.hpp"
#include "ws_client.hpp"

namespace reelhub::testing {
namespace {

/// The relaxed limits plus a chat send budget: `send_limit` messages per minute per user.
std::map<std::string, std::string> limits_with_chat_send(int send_limit) {
  auto env = relaxed_rate_limits();
  auto rules = nlohmann::json::parse(env.at("REELHUB_RATE_LIMITS"));
  rules["chat_send"] = {{"limit", send_limit}, {"window_seconds", 60}};
  env["REELHUB_RATE_LIMITS"] = rules.dump();
  return env;
}

bool is_uuid(const nlohmann::json& v) {
  static const std::regex pattern("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$");
  return v.is_string() && std::regex_match(v.get<std::string>(), pattern);
}

class ChatsTest : public StackTest {
 protected:
  static void SetUpTestSuite() { start_stack(limits_with_chat_send(100000)); }

  static TestUser new_user(const std::string& prefix = "chat") { return register_and_login(http(), prefix); }

  static nlohmann::json open_direct(const TestUser& from, const TestUser& to, int status = 201) {
    auto res = http().post_json("/chats/create", {{"type", "direct"}, {"member_ids", {to.id}}}, from.auth());
    EXPECT_EQ(res.status, status) << res;
    return res.json();
  }

  static nlohmann::json send(const TestUser& from, const std::string& chat_id, const std::string& text,
                             const std::string& client_msg_id = "") {
    nlohmann::json body = {{"text", text}};
    if (!client_msg_id.empty()) body["client_msg_id"] = client_msg_id;
    auto res = http().post_json("/chats/" + chat_id + "/send", body, from.auth());
    EXPECT_EQ(res.status, 201) << res;
    return res.json();
  }

  static nlohmann::json messages(const TestUser& who, const std::string& chat_id, const std::string& query = "") {
    auto res = http().get("/chats/" + chat_id + "/messages" + query, who.auth());
    EXPECT_EQ(res.status, 200) << res;
    return res.json();
  }

  /// The `seq`s of a messages page, in the order given.
  static std::vector<std::int64_t> seqs(const nlohmann::json& page) {
    std::vector<std::int64_t> out;
    for (const auto& m : page.at("messages")) out.push_back(m.at("seq").get<std::int64_t>());
    return out;
  }

  /// A socket of `user` with a subscribe request for the chat sent; `since` ({offset, epoch})
  /// asks the hub for the events that followed that position.
  static std::unique_ptr<WsClient> subscribe(const TestUser& user, const std::string& chat_id,
                                             const nlohmann::json& since = nlohmann::json::object()) {
    auto ws = std::make_unique<WsClient>(stack().server.port());
    authenticate(*ws, user.access_token);
    nlohmann::json request = {{"type", "subscribe"}, {"topic", "chat:" + chat_id}, {"id", "sub"}};
    request.update(since);
    ws->send(request);
    return ws;
  }

  /// A group of `owner` that each of `members` has joined by accepting their invitation.
  static std::string group(const TestUser& owner, const std::vector<const TestUser*>& members,
                           const std::string& title = "group") {
    nlohmann::json ids = nlohmann::json::array();
    for (const auto* m : members) ids.push_back(m->id);
    auto res =
        http().post_json("/chats/create", {{"type", "group"}, {"member_ids", ids}, {"title", title}}, owner.auth());
    EXPECT_EQ(res.status, 201) << res;
    const std::string id = res.json().at("id");
    for (const auto* m : members) {
      auto accepted = http().post_json("/chats/" + id + "/accept", nlohmann::json::object(), m->auth());
      EXPECT_EQ(accepted.status, 200) << accepted;
    }
    return id;
  }

  static nlohmann::json chat_in_list(const TestUser& who, const std::string& chat_id) {
    auto res = http().get("/chats", who.auth());
    EXPECT_EQ(res.status, 200) << res;
    const auto body = res.json();
    for (const auto& chat : body.at("chats"))
      if (chat.at("id") == chat_id) return chat;
    ADD_FAILURE() << "chat " << chat_id << " not in the list: " << res;
    return nlohmann::json::object();
  }
};

TEST_F(ChatsTest, DirectChatIsCreatedOnceAndListed) {
  const TestUser a = new_user(), b = new_user();
  const auto chat = open_direct(a, b);
  EXPECT_TRUE(is_uuid(chat.at("id"))) << chat;
  EXPECT_EQ(chat.at("type"), "direct");
  EXPECT_TRUE(chat.at("title").is_null());
  EXPECT_EQ(chat.at("created_by"), a.id);
  EXPECT_TRUE(chat.at("last_message").is_null());
  EXPECT_EQ(chat.at("unread_count"), 0);
  EXPECT_TRUE(is_iso8601_utc(chat.at("created_at").get<std::string>())) << chat;
  ASSERT_EQ(chat.at("members").size(), 2u) << chat;
  for (const auto& m : chat["members"]) {
    EXPECT_TRUE(m.at("id") == a.id || m.at("id") == b.id) << chat;
    EXPECT_EQ(m.at("username"), m["id"] == a.id ? a.username : b.username);
    EXPECT_FALSE(m.contains("email")) << chat;
  }

  const auto again = open_direct(b, a, 200);
  EXPECT_EQ(again.at("id"), chat["id"]) << "the existing chat, not a duplicate";

  auto list = http().get("/chats", b.auth());
  ASSERT_EQ(list.status, 200) << list;
  ASSERT_EQ(list.json().at("chats").size(), 1u) << list;
  EXPECT_EQ(list.json()["chats"][0]["id"], chat["id"]);
  EXPECT_TRUE(list.json().at("next_cursor").is_null()) << list;
}

TEST_F(ChatsTest, GroupChatHasTitleAndMembers) {
  const TestUser a = new_user(), b = new_user(), c = new_user(), outsider = new_user();
  auto res = http().post_json("/chats/create", {{"type", "group"}, {"member_ids", {b.id, c.id}}, {"title", "Crew"}},
                              a.auth());
  ASSERT_EQ(res.status, 201) << res;
  const auto chat = res.json();
  EXPECT_EQ(chat.at("type"), "group");
  EXPECT_EQ(chat.at("title"), "Crew");
  EXPECT_EQ(chat.at("members").size(), 1u) << "the others are invited, not members: " << chat;
  EXPECT_EQ(chat.at("invited").size(), 2u) << chat;

  const std::string id = chat["id"];
  for (const TestUser* m : {&b, &c}) {
    ASSERT_EQ(http().post_json("/chats/" + id + "/accept", nlohmann::json::object(), m->auth()).status, 200);
  }
  EXPECT_EQ(chat_in_list(a, id).at("members").size(), 3u);
  EXPECT_TRUE(chat_in_list(a, id).at("invited").empty());
  send(c, id, "hello group");
  EXPECT_EQ(chat_in_list(a, id).at("last_message").at("text"), "hello group");
  EXPECT_TRUE(http().get("/chats", outsider.auth()).json().at("chats").empty());
}

TEST_F(ChatsTest, CreateValidatesItsInput) {
  const TestUser a = new_user(), b = new_user(), c = new_user();
  const auto post = [&](const nlohmann::json& body) { return http().post_json("/chats/create", body, a.auth()); };
  for (const auto& body : {nlohmann::json{{"member_ids", {b.id}}},
                           nlohmann::json{{"type", "channel"}, {"member_ids", {b.id}}},
                           nlohmann::json{{"type", "direct"}},
                           nlohmann::json{{"type", "direct"}, {"member_ids", "5"}},
                           nlohmann::json{{"type", "direct"}, {"member_ids", {"x"}}},
                           nlohmann::json{{"type", "direct"}, {"member_ids", {b.id, c.id}}},
                           nlohmann::json{{"type", "direct"}, {"member_ids", {a.id}}},
                           nlohmann::json{{"type", "direct"}, {"member_ids", {999999999}}},
                           nlohmann::json{{"type", "group"}, {"member_ids", nlohmann::json::array()}},
                           nlohmann::json{{"type", "group"}, {"member_ids", {b.id}}, {"title", std::string(101, 't')}}}) {
    EXPECT_TRUE(is_api_error(post(body), 422)) << body;
  }
  EXPECT_TRUE(is_api_error(http().request("POST", "/chats/create", "{nope", a.auth()), 400));
  EXPECT_TRUE(is_api_error(http().post_json("/chats/create", {{"type", "direct"}, {"member_ids", {b.id}}}), 401));
}

TEST_F(ChatsTest, SendIsIdempotentPerClientMsgId) {
  const TestUser a = new_user(), b = new_user();
  const std::string id = open_direct(a, b)["id"];

  const auto first = send(a, id, "hello", "msg-1");
  EXPECT_TRUE(is_uuid(first.at("id"))) << first;
  EXPECT_EQ(first.at("chat_id"), id);
  EXPECT_EQ(first.at("seq"), 1);
  EXPECT_EQ(first.at("sender_id"), a.id);
  EXPECT_EQ(first.at("text"), "hello");
  EXPECT_EQ(first.at("client_msg_id"), "msg-1");
  EXPECT_TRUE(is_iso8601_utc(first.at("created_at").get<std::string>())) << first;

  auto retry = http().post_json("/chats/" + id + "/send", {{"text", "hello"}, {"client_msg_id", "msg-1"}}, a.auth());
  ASSERT_EQ(retry.status, 200) << "a retry is answered 200 with the stored message: " << retry;
  EXPECT_EQ(retry.json().at("id"), first["id"]);
  EXPECT_EQ(seqs(messages(b, id)), (std::vector<std::int64_t>{1})) << "no second message";

  EXPECT_TRUE(is_api_error(
      http().post_json("/chats/" + id + "/send", {{"text", "changed"}, {"client_msg_id", "msg-1"}}, a.auth()), 409));
}

TEST_F(ChatsTest, SendValidatesText) {
  const TestUser a = new_user(), b = new_user();
  const std::string path = "/chats/" + open_direct(a, b)["id"].get<std::string>() + "/send";
  for (const auto& body : {nlohmann::json::object(), nlohmann::json{{"text", ""}}, nlohmann::json{{"text", "  \n\t "}},
                           nlohmann::json{{"text", 42}}, nlohmann::json{{"text", std::string(4001, 'x')}},
                           nlohmann::json{{"text", "ok"}, {"client_msg_id", std::string(65, 'k')}},
                           nlohmann::json{{"text", "ok"}, {"client_msg_id", ""}}}) {
    auto res = http().post_json(path, body, a.auth());
    ASSERT_TRUE(is_api_error(res, 422)) << body;
    EXPECT_TRUE(res.json().contains("details")) << res;
  }
  EXPECT_EQ(http().post_json(path, {{"text", std::string(4000, 'x')}}, a.auth()).status, 201);
}

TEST_F(ChatsTest, NonMembersGet403AndUnknownChats404) {
  const TestUser a = new_user(), b = new_user(), mallory = new_user();
  const std::string id = open_direct(a, b)["id"];
  const std::string message_id = send(a, id, "secret")["id"];

  EXPECT_TRUE(is_api_error(http().post_json("/chats/" + id + "/send", {{"text", "hi"}}, mallory.auth()), 403));
  EXPECT_TRUE(is_api_error(http().get("/chats/" + id + "/messages", mallory.auth()), 403));
  EXPECT_TRUE(is_api_error(http().post_json("/chats/" + id + "/read", {{"message_id", message_id}}, mallory.auth()), 403));
  EXPECT_TRUE(is_api_error(http().post_json("/chats/" + id + "/typing", nlohmann::json::object(), mallory.auth()), 403));

  for (const std::string& unknown : {std::string("00000000-0000-4000-8000-000000000000"), std::string("42"),
                                     std::string("not%20a%20uuid")}) {
    EXPECT_TRUE(is_api_error(http().get("/chats/" + unknown + "/messages", a.auth()), 404)) << unknown;
    EXPECT_TRUE(is_api_error(http().post_json("/chats/" + unknown + "/send", {{"text", "hi"}}, a.auth()), 404))
        << unknown;
  }
  EXPECT_TRUE(is_api_error(http().get("/chats/" + id + "/messages"), 401));
}

TEST_F(ChatsTest, BlockedUserCannotOpenOrWrite) {
  const TestUser a = new_user(), b = new_user();
  const std::string id = open_direct(a, b)["id"];
  ASSERT_EQ(http().post_json("/users/block", {{"user_id", a.id}}, b.auth()).status, 200);

  EXPECT_TRUE(is_api_error(http().post_json("/chats/create", {{"type", "direct"}, {"member_ids", {b.id}}}, a.auth()),
                           403));
  EXPECT_TRUE(is_api_error(http().post_json("/chats/" + id + "/send", {{"text", "let me in"}}, a.auth()), 403));
  EXPECT_TRUE(messages(b, id).at("messages").empty()) << "nothing was stored";

  ASSERT_EQ(http().post_json("/users/unblock", {{"user_id", a.id}}, b.auth()).status, 200);
  send(a, id, "thanks");
}

TEST_F(ChatsTest, HistoryPagesStayExactWhileOthersWrite) {
  const TestUser a = new_user(), b = new_user();
  const std::string id = open_direct(a, b)["id"];
  for (int i = 1; i <= 25; ++i) send(i % 2 ? a : b, id, "m" + std::to_string(i));

  auto page = messages(a, id, "?limit=10");
  std::vector<std::int64_t> seen = seqs(page);
  EXPECT_EQ(seen.front(), 25);
  // New messages between page loads land on top, never inside the pages still to come.
  for (int round = 0; !page.at("next_cursor").is_null(); ++round) {
    send(b, id, "interleaved " + std::to_string(round));
    page = messages(a, id, "?limit=10&before=" + page["next_cursor"].get<std::string>());
    const auto more = seqs(page);
    seen.insert(seen.end(), more.begin(), more.end());
  }
  std::vector<std::int64_t> expected;
  for (std::int64_t s = 25; s >= 1; --s) expected.push_back(s);
  EXPECT_EQ(seen, expected);

  EXPECT_TRUE(is_api_error(http().get("/chats/" + id + "/messages?limit=0", a.auth()), 422));
  EXPECT_TRUE(is_api_error(http().get("/chats/" + id + "/messages?limit=101", a.auth()), 422));
  EXPECT_TRUE(is_api_error(http().get("/chats/" + id + "/messages?before=zzz", a.auth()), 422));
}

TEST_F(ChatsTest, AfterRecoversExactlyTheMissedMessagesInOrder) {
  const TestUser a = new_user(), b = new_user();
  const std::string id = open_direct(a, b)["id"];
  send(a, id, "before the disconnect");
  const std::string last_seen = send(b, id, "last thing b saw")["id"];

  std::vector<std::string> missed;
  for (int i = 1; i <= 5; ++i) missed.push_back(send(a, id, "missed " + std::to_string(i))["id"]);

  const auto recovered = messages(b, id, "?after=" + last_seen);
  ASSERT_EQ(recovered.at("messages").size(), 5u) << recovered;
  for (std::size_t i = 0; i < missed.size(); ++i) {
    EXPECT_EQ(recovered["messages"][i].at("id"), missed[i]);
    EXPECT_EQ(recovered["messages"][i].at("text"), "missed " + std::to_string(i + 1));
  }
  EXPECT_TRUE(recovered.at("next_cursor").is_null()) << recovered;
  EXPECT_TRUE(messages(b, id, "?after=" + missed.back()).at("messages").empty());
  EXPECT_TRUE(is_api_error(http().get("/chats/" + id + "/messages?after=" + last_seen + "&before=" + last_seen, b.auth()),
                           422));
}

TEST_F(ChatsTest, ReadMarkersDriveUnreadCounts) {
  const TestUser a = new_user(), b = new_user();
  const std::string id = open_direct(a, b)["id"];
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(send(a, id, "m" + std::to_string(i))["id"]);

  const auto listed = chat_in_list(b, id);
  EXPECT_EQ(listed.at("unread_count"), 3) << listed;
  EXPECT_EQ(listed.at("last_message").at("id"), ids.back()) << listed;
  EXPECT_EQ(chat_in_list(a, id).at("unread_count"), 0) << "own messages are read";

  auto read = http().post_json("/chats/" + id + "/read", {{"message_id", ids[0]}}, b.auth());
  ASSERT_EQ(read.status, 200) << read;
  EXPECT_EQ(read.json().at("chat_id"), id);
  EXPECT_EQ(read.json().at("message_id"), ids[0]);
  EXPECT_EQ(read.json().at("last_read_seq"), 1);
  EXPECT_EQ(read.json().at("unread_count"), 2);
  EXPECT_EQ(chat_in_list(b, id).at("unread_count"), 2);

  read = http().post_json("/chats/" + id + "/read", {{"message_id", ids[2]}}, b.auth());
  EXPECT_EQ(read.json().at("unread_count"), 0) << read;
  EXPECT_EQ(chat_in_list(b, id).at("unread_count"), 0);

  EXPECT_TRUE(is_api_error(http().post_json("/chats/" + id + "/read", {{"message_id", "nope"}}, b.auth()), 422));
  EXPECT_TRUE(is_api_error(http().post_json("/chats/" + id + "/read", nlohmann::json::object(), b.auth()), 422));
}

TEST_F(ChatsTest, ChatListIsNewestActivityFirstAndPaged) {
  const TestUser me = new_user();
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(open_direct(me, new_user())["id"]);
  send(me, ids[0], "bump");

  auto res = http().get("/chats?limit=2", me.auth());
  ASSERT_EQ(res.status, 200) << res;
  auto body = res.json();
  ASSERT_EQ(body.at("chats").size(), 2u) << body;
  EXPECT_EQ(body["chats"][0].at("id"), ids[0]) << "the chat with the latest message comes first";
  ASSERT_TRUE(body.at("next_cursor").is_string()) << body;
  res = http().get("/chats?limit=2&cursor=" + body["next_cursor"].get<std::string>(), me.auth());
  ASSERT_EQ(res.status, 200) << res;
  EXPECT_EQ(res.json().at("chats").size(), 1u) << res;
  EXPECT_TRUE(res.json().at("next_cursor").is_null()) << res;
  EXPECT_TRUE(is_api_error(http().get("/chats?cursor=bogus", me.auth()), 422));
}

TEST_F(ChatsTest, TypingIsAcceptedForMembers) {
  const TestUser a = new_user(), b = new_user();
  const std::string id = open_direct(a, b)["id"];
  auto res = http().post_json("/chats/" + id + "/typing", nlohmann::json::object(), a.auth());
  EXPECT_EQ(res.status, 204) << res;
  EXPECT_TRUE(messages(b, id).at("messages").empty()) << "typing is not stored";
}

// ---- group consent, leaving and blocks (hardening issue 9, item 8)

TEST_F(ChatsTest, GroupMembershipNeedsTheInviteesConsent) {
  const TestUser a = new_user(), b = new_user(), c = new_user();
  auto created = http().post_json(
      "/chats/create", {{"type", "group"}, {"member_ids", {b.id, c.id}}, {"title", "Plans"}}, a.auth());
  ASSERT_EQ(created.status, 201) << created;
  const std::string id = created.json().at("id");
  send(a, id, "welcome");

  // Invited, not a member: no reading, no writing, no subscribing, not in their chat list.
  EXPECT_TRUE(is_api_error(http().get("/chats/" + id + "/messages", b.auth()), 403));
  EXPECT_TRUE(is_api_error(http().post_json("/chats/" + id + "/send", {{"text", "hi"}}, b.auth()), 403));
  EXPECT_TRUE(http().get("/chats", b.auth()).json().at("chats").empty());
  auto intruder = subscribe(b, id);
  EXPECT_EQ(intruder->receive_until("error", "sub").at("code"), 403);

  // They hear of it as a notification and in their invitations.
  const auto notes = http().get("/notifications", b.auth()).json().at("notifications");
  ASSERT_EQ(notes.size(), 1u) << notes;
  EXPECT_EQ(notes[0].at("type"), "chat_invite");
  EXPECT_EQ(notes[0].at("data").at("chat_id"), id);
  EXPECT_EQ(notes[0].at("data").at("inviter_id"), a.id);
  auto invites = http().get("/chats/invites", b.auth());
  ASSERT_EQ(invites.status, 200) << invites;
  ASSERT_EQ(invites.json().at("invites").size(), 1u) << invites;
  EXPECT_EQ(invites.json()["invites"][0].at("chat_id"), id);
  EXPECT_EQ(invites.json()["invites"][0].at("title"), "Plans");
  EXPECT_EQ(invites.json()["invites"][0].at("inviter_username"), a.username);

  // Accepting makes a member who reads the history with nothing unread.
  auto accepted = http().post_json("/chats/" + id + "/accept", nlohmann::json::object(), b.auth());
  ASSERT_EQ(accepted.status, 200) << accepted;
  EXPECT_EQ(accepted.json().at("members").size(), 2u) << accepted;
  EXPECT_EQ(accepted.json().at("unread_count"), 0) << accepted;
  EXPECT_EQ(messages(b, id).at("messages").size(), 1u);
  send(b, id, "thanks");
  EXPECT_TRUE(http().get("/chats/invites", b.auth()).json().at("invites").empty());
  EXPECT_TRUE(is_api_error(http().post_json("/chats/" + id + "/accept", nlohmann::json::object(), b.auth()), 404));

  // Declining doesn't.
  auto declined = http().post_json("/chats/" + id + "/decline", nlohmann::json::object(), c.auth());
  EXPECT_EQ(declined.status, 204) << declined;
  EXPECT_TRUE(is_api_error(http().get("/chats/" + id + "/messages", c.auth()), 403));
  EXPECT_TRUE(is_api_error(http().post_json("/chats/" + id + "/accept", nlohmann::json::object(), c.auth()), 404));
  EXPECT_TRUE(is_api_error(http().post_json("/chats/" + id + "/decline", nlohmann::json::object(), c.auth()), 404));

  // Any member may invite again; a pending invitation is answered 200 and not sent twice.
  auto again = http().post_json("/chats/" + id + "/invite", {{"user_id", c.id}}, b.auth());
  EXPECT_EQ(again.status, 201) << again;
  EXPECT_EQ(http().post_json("/chats/" + id + "/invite", {{"user_id", c.id}}, a.auth()).status, 200);
  EXPECT_TRUE(is_api_error(http().post_json("/chats/" + id + "/invite", {{"user_id", b.id}}, a.auth()), 409));
  EXPECT_TRUE(is_api_error(http().post_json("/chats/" + id + "/invite", {{"user_id", 999999999}}, a.auth()), 422));
  EXPECT_TRUE(is_api_error(http().post_json("/chats/" + id + "/invite", {{"user_id", "x"}}, a.auth()), 422));
  const TestUser outsider = new_user();
  EXPECT_TRUE(is_api_error(http().post_json("/chats/" + id + "/invite", {{"user_id", c.id}}, outsider.auth()), 403));
  const std::string direct = open_direct(a, b)["id"];
  EXPECT_TRUE(is_api_error(http().post_json("/chats/" + direct + "/invite", {{"user_id", c.id}}, a.auth()), 409));
}

TEST_F(ChatsTest, BlockedUserCannotAddTheBlocker) {
  const TestUser a = new_user(), b = new_user(), blocker = new_user();
  ASSERT_EQ(http().post_json("/users/block", {{"user_id", a.id}}, blocker.auth()).status, 200);
  EXPECT_TRUE(is_api_error(
      http().post_json("/chats/create", {{"type", "group"}, {"member_ids", {b.id, blocker.id}}}, a.auth()), 403));
  const std::string id = group(a, {&b});
  EXPECT_TRUE(is_api_error(http().post_json("/chats/" + id + "/invite", {{"user_id", blocker.id}}, a.auth()), 403));
  EXPECT_TRUE(http().get("/chats/invites", blocker.auth()).json().at("invites").empty());
  // Another member the blocker did not block may invite them.
  EXPECT_EQ(http().post_json("/chats/" + id + "/invite", {{"user_id", blocker.id}}, b.auth()).status, 201);
}

TEST_F(ChatsTest, LeftMemberCanNeitherReadNorPostNorListen) {
  const TestUser a = new_user(), b = new_user();
  const std::string id = group(a, {&b});
  send(a, id, "before");
  auto bob = subscribe(b, id);
  bob->receive_until("subscribed", "sub");

  auto left = http().post_json("/chats/" + id + "/leave", nlohmann::json::object(), b.auth());
  ASSERT_EQ(left.status, 204) << left;
  const auto event = bob->receive_until("member.left");
  EXPECT_EQ(event.at("data").at("user_id"), b.id) << event;

  EXPECT_TRUE(is_api_error(http().get("/chats/" + id + "/messages", b.auth()), 403));
  EXPECT_TRUE(is_api_error(http().post_json("/chats/" + id + "/send", {{"text", "still here?"}}, b.auth()), 403));
  EXPECT_TRUE(is_api_error(http().post_json("/chats/" + id + "/leave", nlohmann::json::object(), b.auth()), 403));
  EXPECT_TRUE(http().get("/chats", b.auth()).json().at("chats").empty());
  // Sent (and published) before the ping: were Bob's socket still subscribed, it would come first.
  send(a, id, "after");
  bob->send({{"type", "ping"}, {"id", "p"}});
  std::vector<nlohmann::json> before_pong;
  bob->receive_until("pong", "p", &before_pong);
  for (const auto& frame : before_pong) EXPECT_NE(frame.value("type", ""), "message.new") << frame;
  EXPECT_EQ(chat_in_list(a, id).at("members").size(), 1u);

  // A direct chat cannot be left; the last member leaving deletes the group.
  EXPECT_TRUE(is_api_error(http().post_json("/chats/" + open_direct(a, b)["id"].get<std::string>() + "/leave",
                                            nlohmann::json::object(), a.auth()),
                           409));
  ASSERT_EQ(http().post_json("/chats/" + id + "/leave", nlohmann::json::object(), a.auth()).status, 204);
  EXPECT_TRUE(is_api_error(http().get("/chats/" + id + "/messages", a.auth()), 404));
}

TEST_F(ChatsTest, BlockHidesGroupMessagesBetweenThePairBothWays) {
  const TestUser a = new_user(), b = new_user(), c = new_user();
  const std::string id = group(a, {&b, &c});
  ASSERT_EQ(http().post_json("/users/block", {{"user_id", c.id}}, b.auth()).status, 200);  // b blocks c

  auto bob = subscribe(b, id);
  bob->receive_until("subscribed", "sub");
  auto carol = subscribe(c, id);
  carol->receive_until("subscribed", "sub");

  const std::string from_c = send(c, id, "from carol")["id"];
  const std::string from_b = send(b, id, "from bob")["id"];
  const std::string from_a = send(a, id, "from alice")["id"];

  const auto texts = [&](const TestUser& who) {
    std::vector<std::string> out;
    const auto page = messages(who, id);
    for (const auto& m : page.at("messages")) out.push_back(m.at("text"));
    return out;
  };
  EXPECT_EQ(texts(a), (std::vector<std::string>{"from alice", "from bob", "from carol"}));
  EXPECT_EQ(texts(b), (std::vector<std::string>{"from alice", "from bob"})) << "the blocker doesn't see the blocked";
  EXPECT_EQ(texts(c), (std::vector<std::string>{"from alice", "from carol"})) << "nor the blocked the blocker";
  EXPECT_EQ(messages(b, id, "?after=" + from_c).at("messages").size(), 2u);

  // Live: each one's first message.new is their own, the next is Alice's.
  EXPECT_EQ(bob->receive_until("message.new").at("data").at("id"), from_b);
  EXPECT_EQ(bob->receive_until("message.new").at("data").at("id"), from_a);
  EXPECT_EQ(carol->receive_until("message.new").at("data").at("id"), from_c);
  EXPECT_EQ(carol->receive_until("message.new").at("data").at("id"), from_a);

  // The chat list shows neither the other's message nor counts it as unread.
  send(c, id, "carol again");
  EXPECT_EQ(chat_in_list(b, id).at("last_message").at("text"), "from alice");
  EXPECT_EQ(chat_in_list(b, id).at("unread_count"), 1) << "Alice's message only";
  EXPECT_EQ(chat_in_list(a, id).at("last_message").at("text"), "carol again");

  // Unblocking shows the history again.
  ASSERT_EQ(http().post_json("/users/unblock", {{"user_id", c.id}}, b.auth()).status, 200);
  EXPECT_EQ(texts(b).size(), 4u);
}

// ---- over the WebSocket

TEST_F(ChatsTest, MembersReceiveEventsLiveAndOthersAreRefused) {
  const TestUser a = new_user(), b = new_user(), mallory = new_user();
  const std::string id = open_direct(a, b)["id"];
  const std::string topic = "chat:" + id;
  auto bob = subscribe(b, id);
  const auto subscribed = bob->receive_until("subscribed", "sub");
  EXPECT_EQ(subscribed.at("topic"), topic) << subscribed;

  auto intruder = subscribe(mallory, id);
  const auto refused = intruder->receive_until("error", "sub");
  EXPECT_EQ(refused.at("code"), 403) << refused;

  const auto sent = send(a, id, "live!", "ws-1");
  const auto event = bob->receive_until("message.new");
  EXPECT_EQ(event.at("topic"), topic) << event;
  EXPECT_EQ(event.at("data").at("id"), sent["id"]) << event;
  EXPECT_EQ(event.at("data").at("text"), "live!") << event;
  EXPECT_TRUE(event.at("offset").is_number_unsigned()) << event;

  // A retried send is answered from storage and not announced again: the next event Bob sees is
  // the message after it.
  auto retry = http().post_json("/chats/" + id + "/send", {{"text", "live!"}, {"client_msg_id", "ws-1"}}, a.auth());
  ASSERT_EQ(retry.status, 200) << retry;
  const auto next = send(a, id, "next");
  EXPECT_EQ(bob->receive_until("message.new").at("data").at("id"), next["id"]);

  ASSERT_EQ(http().post_json("/chats/" + id + "/typing", nlohmann::json::object(), a.auth()).status, 204);
  const auto typing = bob->receive_until("typing");
  EXPECT_EQ(typing.at("data").at("user_id"), a.id) << typing;
  ASSERT_EQ(http().post_json("/chats/" + id + "/read", {{"message_id", next["id"]}}, b.auth()).status, 200);
  const auto read = bob->receive_until("message.read");
  EXPECT_EQ(read.at("data").at("user_id"), b.id) << read;
  EXPECT_EQ(read.at("data").at("message_id"), next["id"]) << read;

  // Bob was online, so nothing was stored for him; Mallory saw none of it.
  const auto notes = http().get("/notifications", b.auth());
  EXPECT_TRUE(notes.json().at("notifications").empty()) << notes;
  intruder->send({{"type", "ping"}, {"id", "p"}});
  std::vector<nlohmann::json> before_pong;
  intruder->receive_until("pong", "p", &before_pong);
  for (const auto& frame : before_pong) EXPECT_NE(frame.value("topic", ""), topic) << frame;
}

TEST_F(ChatsTest, ReconnectRecoversExactlyTheMissedMessagesInOrder) {
  const TestUser a = new_user(), b = new_user();
  const std::string id = open_direct(a, b)["id"];
  nlohmann::json position;
  std::string last_seen;
  {
    auto bob = subscribe(b, id);
    bob->receive_until("subscribed", "sub");
    last_seen = send(a, id, "seen live")["id"];
    const auto event = bob->receive_until("message.new");
    ASSERT_EQ(event.at("data").at("id"), last_seen) << event;
    position = {{"offset", event.at("offset")}, {"epoch", event.at("epoch")}};
    bob->close();
  }
  std::vector<std::string> missed;
  for (int i = 1; i <= 5; ++i) missed.push_back(send(a, id, "missed " + std::to_string(i))["id"]);

  auto bob = subscribe(b, id, position);
  const auto subscribed = bob->receive_until("subscribed", "sub");
  ASSERT_EQ(subscribed.at("recovered"), true) << subscribed;
  for (const auto& expected : missed) EXPECT_EQ(bob->receive_until("message.new").at("data").at("id"), expected);
  // Nothing more: the next event is the next live message.
  const auto live = send(a, id, "live again");
  EXPECT_EQ(bob->receive_until("message.new").at("data").at("id"), live["id"]);

  // The same five over REST (then the live one), for a client whose position the hub lost.
  const auto page = messages(b, id, "?after=" + last_seen);
  ASSERT_EQ(page.at("messages").size(), 6u) << page;
  for (std::size_t i = 0; i < missed.size(); ++i) EXPECT_EQ(page["messages"][i].at("id"), missed[i]);
}

class ChatSendLimitTest : public StackTest {
 protected:
  static void SetUpTestSuite() { start_stack(limits_with_chat_send(3)); }
};

TEST_F(ChatSendLimitTest, FourthSendInTheBurstIs429WithRetryAfter) {
  const TestUser a = register_and_login(http(), "lim"), b = register_and_login(http(), "lim");
  auto open = http().post_json("/chats/create", {{"type", "direct"}, {"member_ids", {b.id}}}, a.auth());
  ASSERT_EQ(open.status, 201) << open;
  const std::string path = "/chats/" + open.json()["id"].get<std::string>() + "/send";
  for (int i = 0; i < 3; ++i) ASSERT_EQ(http().post_json(path, {{"text", "m"}}, a.auth()).status, 201) << i;

  auto refused = http().post_json(path, {{"text", "one too many"}}, a.auth());
  ASSERT_TRUE(is_api_error(refused, 429));
  const int retry_after = std::stoi(refused.header("Retry-After"));
  EXPECT_GE(retry_after, 1) << refused;
  EXPECT_LE(retry_after, 20) << refused;  // one token comes back every 60/3 s
  EXPECT_EQ(refused.json().at("retry_after"), retry_after) << refused;

  // The budget is per user: b still sends.
  EXPECT_EQ(http().post_json(path, {{"text", "my turn"}}, b.auth()).status, 201);
}

}  // namespace
}  // namespace reelhub::testing
