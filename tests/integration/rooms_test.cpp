// The watch-together rooms endpoints end to end over HTTP (API.md "Watch-together rooms", issue 10's
// REST slice): creating a room on a ready video or recording, the participant cap (subscribers of
// the host exempt, atomic under concurrent joins), the host leaving closes the room (`room.closed`
// on `room:<id>`), kicks, private rooms with invitations and blocks, the list with its filters and
// pages, deletes, and bad input.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <latch>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "expectations.hpp"
#include "stack.hpp"
#include "users.hpp"
#include "ws_client.hpp"

namespace reelhub::testing {
namespace {

const nlohmann::json kNoBody = nlohmann::json::object();

class RoomsTest : public StackTest {
 protected:
  /// A short disconnect grace, so a departure is seen within a test.
  static void SetUpTestSuite() {
    auto env = relaxed_rate_limits();
    env["REELHUB_WS_DEPARTURE_GRACE_MS"] = "1500";
    start_stack(env);
  }

  static TestUser new_user(const std::string& prefix = "room") { return register_and_login(http(), prefix); }

  /// A video row in `status` owned by `owner` (no files: rooms only need the row).
  static std::string video_of(const TestUser& owner, const std::string& status = "ready",
                              const std::string& title = "Movie night") {
    return stack().db.scalar("INSERT INTO videos (owner_id, title, status) VALUES (" + std::to_string(owner.id) +
                             ", '" + title + "', '" + status + "') RETURNING id");
  }

  /// A ready recording of `owner`; returns its stream id, the public id of recordings.
  static std::string recording_of(const TestUser& owner) {
    return stack().db.scalar(
        "INSERT INTO recordings (stream_id, user_id, username, title, status, ready_at, live_removed_at) "
        "VALUES (gen_random_uuid(), " +
        std::to_string(owner.id) + ", '" + owner.username + "', 'Friday stream', 'ready', now(), now()) "
        "RETURNING stream_id");
  }

  static nlohmann::json create(const TestUser& host, nlohmann::json body) {
    if (!body.contains("recording_id") && !body.contains("video_id")) body["video_id"] = video_of(host);
    auto res = http().post_json("/api/rooms", body, host.auth());
    EXPECT_EQ(res.status, 201) << res;
    return res.json();
  }

  static std::string room_of(const TestUser& host, nlohmann::json body = nlohmann::json::object()) {
    return create(host, std::move(body)).at("id");
  }

  static HttpResponse join(const TestUser& user, const std::string& room) {
    return http().post_json("/api/rooms/" + room + "/join", kNoBody, user.auth());
  }

  static HttpResponse leave(const TestUser& user, const std::string& room) {
    return http().post_json("/api/rooms/" + room + "/leave", kNoBody, user.auth());
  }

  static HttpResponse invite(const TestUser& host, const std::string& room, const TestUser& user) {
    return http().post_json("/api/rooms/" + room + "/invite", {{"user_id", user.id}}, host.auth());
  }

  static nlohmann::json room(const TestUser& viewer, const std::string& room) {
    auto res = http().get("/api/rooms/" + room, viewer.auth());
    EXPECT_EQ(res.status, 200) << res;
    return res.json();
  }

  static std::vector<std::int64_t> participant_ids(const nlohmann::json& room) {
    std::vector<std::int64_t> ids;
    for (const auto& p : room.at("participants")) ids.push_back(p.at("id"));
    return ids;
  }

  /// The ids of the rooms GET /api/rooms`query` lists for `viewer`, all pages.
  static std::vector<std::string> listed(const TestUser& viewer, const std::string& query = "?limit=100") {
    auto res = http().get("/api/rooms" + query, viewer.auth());
    EXPECT_EQ(res.status, 200) << res;
    const auto body = res.json();  // range-for over a member of a temporary would dangle
    std::vector<std::string> ids;
    for (const auto& r : body.at("rooms")) ids.push_back(r.at("id"));
    return ids;
  }

  static bool contains(const std::vector<std::string>& ids, const std::string& id) {
    return std::find(ids.begin(), ids.end(), id) != ids.end();
  }

  /// A socket of `user` subscribed to the room's topic.
  static std::unique_ptr<WsClient> listen(const TestUser& user, const std::string& room) {
    auto ws = std::make_unique<WsClient>(stack().server.port());
    authenticate(*ws, user.access_token);
    ws->send({{"type", "subscribe"}, {"topic", "room:" + room}, {"id", "sub"}});
    ws->receive_until("subscribed", "sub");
    return ws;
  }

  /// Sends `message` about `room` (playback control, chat) and returns the reply (or error) to it.
  static nlohmann::json request(WsClient& ws, const std::string& room, nlohmann::json message) {
    static int next_id = 0;
    const std::string id = "c" + std::to_string(++next_id);
    message["room_id"] = room;
    message["id"] = id;
    ws.send(message);
    for (;;) {
      auto reply = ws.receive();
      if (reply.value("id", nlohmann::json()) == id) return reply;
    }
  }

  /// The next `playback` event of the room's topic whose cause is `cause`.
  static nlohmann::json next_playback(WsClient& ws, const std::string& cause) {
    for (;;) {
      auto event = ws.receive_until("playback");
      if (event.at("data").at("cause") == cause) return event.at("data");
    }
  }
};

TEST_F(RoomsTest, CreateShowsTheHostJoinedAndWhatIsPlaying) {
  const TestUser host = new_user();
  const std::string video = video_of(host, "ready", "Alien");
  auto res = http().post_json("/api/rooms", {{"video_id", video}}, host.auth());
  ASSERT_EQ(res.status, 201) << res;
  const auto body = res.json();
  EXPECT_EQ(body.at("title"), "Alien");  // the video's title when none is given
  EXPECT_EQ(body.at("private"), false);
  EXPECT_EQ(body.at("host").at("id"), host.id);
  EXPECT_EQ(body.at("host").at("username"), host.username);
  EXPECT_EQ(body.at("playing"), (nlohmann::json{{"type", "video"}, {"id", video}, {"title", "Alien"}}));
  EXPECT_EQ(body.at("video_id"), video);
  EXPECT_TRUE(body.at("recording_id").is_null());
  EXPECT_EQ(body.at("participant_count"), 1);
  ASSERT_EQ(body.at("participants").size(), 1u);
  EXPECT_EQ(body["participants"][0].at("id"), host.id);
  EXPECT_EQ(body["participants"][0].at("seat"), "host");
  EXPECT_EQ(body.at("playback").at("state"), "paused");
  EXPECT_EQ(body.at("playback").at("position"), 0.0);
  EXPECT_EQ(body.at("playback").at("rate"), 1.0);
  EXPECT_TRUE(is_iso8601_utc(body.at("playback").at("updated_at"))) << body;
  EXPECT_EQ(body.at("slow_mode_seconds"), 0);

  // A ready recording, by its stream id, with a title of the host's choosing.
  const std::string recording = recording_of(host);
  const auto on_recording = create(host, {{"recording_id", recording}, {"title", "Rewatch"}});
  EXPECT_EQ(on_recording.at("title"), "Rewatch");
  EXPECT_EQ(on_recording.at("playing").at("type"), "recording");
  EXPECT_EQ(on_recording.at("recording_id"), recording);
  EXPECT_TRUE(on_recording.at("video_id").is_null());

  // Anyone may look at a public room, even without a token.
  auto anonymous = http().get("/api/rooms/" + body.at("id").get<std::string>());
  ASSERT_EQ(anonymous.status, 200) << anonymous;
  EXPECT_EQ(anonymous.json().at("id"), body.at("id"));
}

// Acceptance 1: the host and 9 ordinary users fill a room; the next ordinary user gets 409, a
// subscriber of the host still joins.
TEST_F(RoomsTest, CapCountsTheHostAndOrdinaryUsersButNotSubscribers) {
  const TestUser host = new_user("host");
  const std::string id = room_of(host);
  for (int i = 0; i < 9; ++i) {
    auto res = join(new_user(), id);
    ASSERT_EQ(res.status, 200) << "join " << i << ": " << res;
  }
  const TestUser eleventh = new_user();
  auto full = join(eleventh, id);
  ASSERT_TRUE(is_api_error(full, 409));
  EXPECT_NE(full.json().at("message").get<std::string>().find("full"), std::string::npos) << full;

  const TestUser fan = new_user("fan");
  ASSERT_EQ(http().post_json("/users/" + std::to_string(host.id) + "/subscribe", kNoBody, fan.auth()).status, 200);
  auto joined = join(fan, id);
  ASSERT_EQ(joined.status, 200) << joined;
  EXPECT_EQ(joined.json().at("participant_count"), 11);
  const auto seats = joined.json().at("participants");
  EXPECT_TRUE(std::any_of(seats.begin(), seats.end(), [&](const nlohmann::json& p) {
    return p.at("id") == fan.id && p.at("seat") == "subscriber";
  })) << seats;

  // A subscriber's seat does not make room for an ordinary user; a participant joining again is a no-op.
  EXPECT_TRUE(is_api_error(join(eleventh, id), 409));
  auto again = join(fan, id);
  ASSERT_EQ(again.status, 200) << again;
  EXPECT_EQ(again.json().at("participant_count"), 11);
}

// Acceptance 1, concurrently: 30 joins at once leave exactly 9 ordinary users beside the host.
TEST_F(RoomsTest, ConcurrentJoinsNeverOverfillTheRoom) {
  const TestUser host = new_user("host");
  const std::string id = room_of(host);
  std::vector<TestUser> users;
  for (int i = 0; i < 30; ++i) users.push_back(new_user("rush"));

  std::vector<int> statuses(users.size());
  std::latch start(static_cast<std::ptrdiff_t>(users.size()));
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < users.size(); ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      statuses[i] = join(users[i], id).status;
    });
  }
  for (auto& t : threads) t.join();

  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 200), 9);
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 409), 21);
  EXPECT_EQ(room(host, id).at("participants").size(), 10u);
}

// Acceptance 2: the host leaving closes the room for everyone.
TEST_F(RoomsTest, HostLeavingClosesTheRoom) {
  const TestUser host = new_user("host"), guest = new_user();
  const std::string id = room_of(host);
  ASSERT_EQ(join(guest, id).status, 200);
  auto socket = listen(guest, id);
  ASSERT_TRUE(contains(listed(guest), id));

  ASSERT_EQ(leave(host, id).status, 204);
  const auto closed = socket->receive_until("room.closed");
  EXPECT_EQ(closed.at("topic"), "room:" + id);
  EXPECT_EQ(closed.at("data").at("room_id"), id);
  EXPECT_EQ(closed.at("data").at("reason"), "host_left");

  EXPECT_TRUE(is_api_error(http().get("/api/rooms/" + id, guest.auth()), 404));
  EXPECT_FALSE(contains(listed(guest), id));
  EXPECT_TRUE(is_api_error(join(guest, id), 404));
  EXPECT_TRUE(is_api_error(leave(guest, id), 404));
}

TEST_F(RoomsTest, ParticipantLeavingKeepsTheRoom) {
  const TestUser host = new_user("host"), guest = new_user();
  const std::string id = room_of(host);
  ASSERT_EQ(join(guest, id).status, 200);
  auto socket = listen(host, id);

  ASSERT_EQ(leave(guest, id).status, 204);
  EXPECT_EQ(socket->receive_until("participant.left").at("data").at("user_id"), guest.id);
  EXPECT_EQ(room(host, id).at("participant_count"), 1);
  EXPECT_TRUE(is_api_error(leave(guest, id), 403));
  EXPECT_EQ(join(guest, id).status, 200);  // leaving is no kick
}

// Acceptance 5: a kicked user is told, and cannot come back.
TEST_F(RoomsTest, KickedUserCannotRejoin) {
  const TestUser host = new_user("host"), guest = new_user(), other = new_user();
  const std::string id = room_of(host);
  ASSERT_EQ(join(guest, id).status, 200);
  ASSERT_EQ(join(other, id).status, 200);
  auto socket = listen(guest, id);
  const auto kick = [&](const TestUser& by, const std::string& target) {
    return http().post_json("/api/rooms/" + id + "/kick/" + target, kNoBody, by.auth());
  };

  EXPECT_TRUE(is_api_error(kick(other, std::to_string(guest.id)), 403));  // host only
  ASSERT_EQ(kick(host, std::to_string(guest.id)).status, 204);
  EXPECT_EQ(socket->receive_until("participant.kicked").at("data").at("user_id"), guest.id);
  // The kicked user's socket has left the topic: a change published before its pong is answered
  // would be queued ahead of the pong, and it may not subscribe again.
  auto host_ws = listen(host, id);
  ASSERT_EQ(request(*host_ws, id, {{"type", "seek"}, {"position", 30}}).at("type"), "seek");
  socket->send({{"type", "ping"}, {"id", "after"}});
  std::vector<nlohmann::json> skipped;
  socket->receive_until("pong", "after", &skipped);
  for (const auto& frame : skipped) EXPECT_NE(frame.at("type"), "playback") << frame;
  socket->send({{"type", "subscribe"}, {"topic", "room:" + id}, {"id", "again"}});
  EXPECT_EQ(socket->receive_until("error", "again").at("code"), 403);
  EXPECT_EQ(participant_ids(room(host, id)), (std::vector<std::int64_t>{host.id, other.id}));

  auto rejoin = join(guest, id);
  EXPECT_TRUE(is_api_error(rejoin, 403));
  EXPECT_TRUE(is_api_error(invite(host, id, guest), 409));
  EXPECT_TRUE(is_api_error(kick(host, std::to_string(guest.id)), 404));  // not in the room any more
  EXPECT_TRUE(is_api_error(kick(host, std::to_string(host.id)), 409));
  EXPECT_TRUE(is_api_error(kick(host, "abc"), 404));
}

// Acceptance 6: a private room exists only for its participants and invitees.
TEST_F(RoomsTest, PrivateRoomNeedsAnInvitation) {
  const TestUser host = new_user("host"), friend_ = new_user("friend"), stranger = new_user("stranger");
  const std::string id = room_of(host, {{"private", true}, {"title", "Just us"}});

  EXPECT_TRUE(is_api_error(http().get("/api/rooms/" + id, stranger.auth()), 404));
  EXPECT_TRUE(is_api_error(http().get("/api/rooms/" + id), 404));
  EXPECT_TRUE(is_api_error(join(stranger, id), 404));
  EXPECT_FALSE(contains(listed(stranger), id));
  EXPECT_TRUE(contains(listed(host), id));

  auto invited = invite(host, id, friend_);
  ASSERT_EQ(invited.status, 201) << invited;
  EXPECT_EQ(invited.json(), (nlohmann::json{{"room_id", id}, {"user_id", friend_.id}}));
  EXPECT_EQ(invite(host, id, friend_).status, 200);  // pending already: not sent twice
  const auto notes = http().get("/notifications", friend_.auth()).json().at("notifications");
  ASSERT_EQ(notes.size(), 1u) << notes;
  EXPECT_EQ(notes[0].at("type"), "room_invite");
  EXPECT_EQ(notes[0].at("data").at("room_id"), id);
  EXPECT_EQ(notes[0].at("data").at("title"), "Just us");
  EXPECT_EQ(notes[0].at("data").at("inviter_id"), host.id);

  EXPECT_TRUE(contains(listed(friend_), id));
  EXPECT_EQ(room(friend_, id).at("private"), true);
  ASSERT_EQ(join(friend_, id).status, 200);
  EXPECT_TRUE(is_api_error(invite(host, id, friend_), 409));  // in the room already

  // Only the host invites; a participant cannot let strangers in.
  EXPECT_TRUE(is_api_error(invite(friend_, id, stranger), 403));
  EXPECT_TRUE(is_api_error(join(stranger, id), 404));
}

TEST_F(RoomsTest, UserWhoBlockedTheHostCannotBeInvited) {
  const TestUser host = new_user("host"), blocker = new_user("blocker");
  const std::string id = room_of(host, {{"private", true}});
  ASSERT_EQ(http().post_json("/users/block", {{"user_id", host.id}}, blocker.auth()).status, 200);

  EXPECT_TRUE(is_api_error(invite(host, id, blocker), 403));
  EXPECT_TRUE(http().get("/notifications", blocker.auth()).json().at("notifications").empty());
  EXPECT_TRUE(is_api_error(join(blocker, id), 404));
  // Unknown users and the host themselves.
  EXPECT_TRUE(is_api_error(http().post_json("/api/rooms/" + id + "/invite", {{"user_id", 99999999}}, host.auth()), 422));
  EXPECT_TRUE(is_api_error(invite(host, id, host), 409));
}

TEST_F(RoomsTest, HostOrAdminDeletes) {
  const TestUser host = new_user("host"), guest = new_user();
  TestUser admin = new_user("admin");
  stack().db.exec("UPDATE users SET role = 'admin' WHERE id = " + std::to_string(admin.id));
  log_in(http(), admin);

  const std::string id = room_of(host);
  ASSERT_EQ(join(guest, id).status, 200);
  auto socket = listen(guest, id);
  EXPECT_TRUE(is_api_error(http().del("/api/rooms/" + id, guest.auth()), 403));
  ASSERT_EQ(http().del("/api/rooms/" + id, host.auth()).status, 204);
  EXPECT_EQ(socket->receive_until("room.closed").at("data").at("reason"), "deleted");
  EXPECT_TRUE(is_api_error(http().get("/api/rooms/" + id, host.auth()), 404));
  EXPECT_TRUE(is_api_error(http().del("/api/rooms/" + id, host.auth()), 404));

  // An admin may close any room, a private one included.
  const std::string hidden = room_of(host, {{"private", true}});
  EXPECT_EQ(http().get("/api/rooms/" + hidden, admin.auth()).status, 200);
  ASSERT_EQ(http().del("/api/rooms/" + hidden, admin.auth()).status, 204);
  EXPECT_TRUE(is_api_error(http().get("/api/rooms/" + hidden, host.auth()), 404));
}

TEST_F(RoomsTest, ListFiltersByVideoSearchesTitlesAndPages) {
  const TestUser host = new_user("host"), viewer = new_user();
  const std::string video = video_of(host), other_video = video_of(host);
  const std::string first = room_of(host, {{"video_id", video}, {"title", "Zebra crossing 100%"}});
  const std::string second = room_of(host, {{"video_id", video}, {"title", "Lions"}});
  const std::string third = room_of(host, {{"video_id", video}, {"title", "zebras again"}});
  const std::string elsewhere = room_of(host, {{"video_id", other_video}, {"title", "Zebra elsewhere"}});

  EXPECT_EQ(listed(viewer, "?video_id=" + video), (std::vector<std::string>{third, second, first}));
  EXPECT_EQ(listed(viewer, "?video_id=" + video + "&q=ZEBRA"), (std::vector<std::string>{third, first}));
  EXPECT_EQ(listed(viewer, "?video_id=" + video + "&q=100%25"), (std::vector<std::string>{first}));
  EXPECT_EQ(listed(viewer, "?video_id=" + video + "&q=_"), (std::vector<std::string>{}));  // no wildcard
  EXPECT_EQ(listed(viewer, "?video_id=" + other_video), (std::vector<std::string>{elsewhere}));

  auto page = http().get("/api/rooms?video_id=" + video + "&limit=2", viewer.auth());
  ASSERT_EQ(page.status, 200) << page;
  ASSERT_EQ(page.json().at("rooms").size(), 2u);
  const auto summary = page.json()["rooms"][0];
  EXPECT_EQ(summary.at("id"), third);
  EXPECT_EQ(summary.at("participant_count"), 1);
  EXPECT_EQ(summary.at("host").at("username"), host.username);
  EXPECT_EQ(summary.at("playing").at("id"), video);
  EXPECT_FALSE(summary.contains("participants"));
  const std::string cursor = page.json().at("next_cursor");
  auto rest = http().get("/api/rooms?video_id=" + video + "&limit=2&cursor=" + cursor, viewer.auth());
  ASSERT_EQ(rest.status, 200) << rest;
  ASSERT_EQ(rest.json().at("rooms").size(), 1u);
  EXPECT_EQ(rest.json()["rooms"][0].at("id"), first);
  EXPECT_TRUE(rest.json().at("next_cursor").is_null());

  // A closed room leaves the list.
  ASSERT_EQ(leave(host, second).status, 204);
  EXPECT_EQ(listed(viewer, "?video_id=" + video), (std::vector<std::string>{third, first}));
}

TEST_F(RoomsTest, BadInput) {
  const TestUser host = new_user("host"), stranger = new_user();
  const std::string id = room_of(host);
  const std::string unknown = "3f1c8a52-6d0e-4b7a-9c21-5e8f0a7b9d14";

  // Ids in paths that are no UUID, or name no room, are 404.
  for (const std::string& bad : {std::string("not-a-uuid"), std::string("1"), unknown}) {
    EXPECT_TRUE(is_api_error(http().get("/api/rooms/" + bad, host.auth()), 404)) << bad;
    EXPECT_TRUE(is_api_error(join(host, bad), 404)) << bad;
    EXPECT_TRUE(is_api_error(leave(host, bad), 404)) << bad;
    EXPECT_TRUE(is_api_error(http().del("/api/rooms/" + bad, host.auth()), 404)) << bad;
    EXPECT_TRUE(is_api_error(invite(host, bad, stranger), 404)) << bad;
  }

  const auto create_status = [&](const TestUser& who, const nlohmann::json& body) {
    return http().post_json("/api/rooms", body, who.auth());
  };
  // Unknown (or not a UUID, or someone else's unfinished) video or recording: 422; one not ready: 409.
  EXPECT_TRUE(is_api_error(create_status(host, {{"video_id", unknown}}), 422));
  EXPECT_TRUE(is_api_error(create_status(host, {{"video_id", "nope"}}), 422));
  EXPECT_TRUE(is_api_error(create_status(host, {{"recording_id", unknown}}), 422));
  EXPECT_TRUE(is_api_error(create_status(stranger, {{"video_id", video_of(host, "processing")}}), 422));
  EXPECT_TRUE(is_api_error(create_status(host, {{"video_id", video_of(host, "processing")}}), 409));
  EXPECT_TRUE(is_api_error(create_status(host, {{"video_id", video_of(host, "failed")}}), 409));
  // Exactly one of the ids; title and private of the right kind.
  const std::string video = video_of(host);
  EXPECT_TRUE(is_api_error(create_status(host, kNoBody), 422));
  EXPECT_TRUE(is_api_error(create_status(host, {{"video_id", video}, {"recording_id", recording_of(host)}}), 422));
  EXPECT_TRUE(is_api_error(create_status(host, {{"video_id", video}, {"private", "yes"}}), 422));
  EXPECT_TRUE(is_api_error(create_status(host, {{"video_id", video}, {"title", "   "}}), 422));
  EXPECT_TRUE(is_api_error(create_status(host, {{"video_id", video}, {"title", std::string(101, 'x')}}), 422));
  EXPECT_TRUE(is_api_error(create_status(host, {{"video_id", video}, {"title", "a\x01z"}}), 422));
  EXPECT_TRUE(is_api_error(http().request("POST", "/api/rooms", "{", {{"Content-Type", "application/json"},
                                                                       {"Authorization", "Bearer " + host.access_token}}),
                           400));
  EXPECT_TRUE(is_api_error(http().post_json("/api/rooms", {{"video_id", video}}), 401));

  // The list's filters and cursor.
  EXPECT_TRUE(is_api_error(http().get("/api/rooms?video_id=nope"), 422));
  EXPECT_TRUE(is_api_error(http().get("/api/rooms?video_id=" + video + "&recording_id=" + video), 422));
  EXPECT_TRUE(is_api_error(http().get("/api/rooms?cursor=garbage"), 422));
  EXPECT_TRUE(is_api_error(http().get("/api/rooms?limit=0"), 422));
  EXPECT_TRUE(is_api_error(http().get("/api/rooms?q=%01"), 422));

  // Invitations need a user id.
  EXPECT_TRUE(is_api_error(http().post_json("/api/rooms/" + id + "/invite", kNoBody, host.auth()), 422));
  EXPECT_TRUE(is_api_error(http().post_json("/api/rooms/" + id + "/invite", {{"user_id", "x"}}, host.auth()), 422));
}

TEST_F(RoomsTest, OnlyParticipantsSubscribeToTheRoomTopic) {
  const TestUser host = new_user("host"), stranger = new_user();
  const std::string id = room_of(host);
  WsClient ws(stack().server.port());
  authenticate(ws, stranger.access_token);
  ws.send({{"type", "subscribe"}, {"topic", "room:" + id}, {"id", "sub"}});
  EXPECT_EQ(ws.receive_until("error", "sub").at("code"), 403);
  ASSERT_EQ(join(stranger, id).status, 200);
  ws.send({{"type", "subscribe"}, {"topic", "room:" + id}, {"id", "sub2"}});
  ws.receive_until("subscribed", "sub2");
}

// Acceptance 3: the server holds the playback state; a late joiner gets it extrapolated to now.
TEST_F(RoomsTest, LateJoinerGetsThePositionExtrapolatedToNow) {
  const TestUser host = new_user("host"), guest = new_user(), late = new_user("late");
  const std::string id = room_of(host);
  ASSERT_EQ(join(guest, id).status, 200);
  auto host_ws = listen(host, id);
  auto guest_ws = listen(guest, id);

  const auto seek = request(*host_ws, id, {{"type", "seek"}, {"position", 120}});
  ASSERT_EQ(seek.at("type"), "seek") << seek;
  EXPECT_EQ(seek.at("playback").at("state"), "paused");
  EXPECT_EQ(seek.at("playback").at("position"), 120.0);
  const auto play = request(*host_ws, id, {{"type", "play"}});
  ASSERT_EQ(play.at("type"), "play") << play;
  const auto started = play.at("playback");
  EXPECT_EQ(started.at("state"), "playing");
  EXPECT_EQ(started.at("position"), 120.0);
  EXPECT_EQ(started.at("rate"), 1.0);

  // Every member hears of each change, stamped with the server's clock.
  EXPECT_EQ(next_playback(*guest_ws, "seek").at("position"), 120.0);
  const auto heard = next_playback(*guest_ws, "play");
  EXPECT_EQ(heard.at("state"), "playing");
  EXPECT_EQ(heard.at("updated_at_ms"), started.at("updated_at_ms"));
  EXPECT_EQ(heard.at("room_id"), id);

  // What is tested is time passing on the server: 2 s of it.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  auto joined = join(late, id);
  ASSERT_EQ(joined.status, 200) << joined;
  const auto state = joined.json().at("playback");
  EXPECT_EQ(state.at("state"), "playing");
  const double elapsed = (state.at("updated_at_ms").get<double>() - started.at("updated_at_ms").get<double>()) / 1000;
  EXPECT_NEAR(state.at("position").get<double>(), 120.0 + elapsed, 0.001) << state;  // by its own stamp
  EXPECT_NEAR(state.at("position").get<double>(), 122.0, 0.1) << state;
  // GET shows the same state, brought to its own moment.
  const auto again = room(late, id).at("playback");
  EXPECT_NEAR(again.at("position").get<double>() - state.at("position").get<double>(),
              (again.at("updated_at_ms").get<double>() - state.at("updated_at_ms").get<double>()) / 1000, 0.001);
}

// Acceptance 3: only the host, and whom the host grants it, controls playback; bad control
// messages are refused.
TEST_F(RoomsTest, OnlyTheHostControlsPlayback) {
  const TestUser host = new_user("host"), guest = new_user(), stranger = new_user();
  const std::string id = room_of(host);
  ASSERT_EQ(join(guest, id).status, 200);
  auto guest_ws = listen(guest, id);

  const auto refused = request(*guest_ws, id, {{"type", "pause"}});
  EXPECT_EQ(refused.at("type"), "error");
  EXPECT_EQ(refused.at("code"), 403) << refused;

  WsClient outsider(stack().server.port());
  authenticate(outsider, stranger.access_token);
  EXPECT_EQ(request(outsider, id, {{"type", "play"}}).at("code"), 404);

  auto host_ws = listen(host, id);
  EXPECT_EQ(request(*host_ws, id, {{"type", "seek"}, {"position", -1}}).at("code"), 422);
  EXPECT_EQ(request(*host_ws, id, {{"type", "seek"}, {"position", "10"}}).at("code"), 422);
  EXPECT_EQ(request(*host_ws, id, {{"type", "rate"}, {"rate", 0}}).at("code"), 422);
  EXPECT_EQ(request(*host_ws, id, {{"type", "rate"}, {"rate", 9}}).at("code"), 422);
  EXPECT_EQ(request(*host_ws, "not-a-room", {{"type", "play"}}).at("code"), 404);
  const auto rate = request(*host_ws, id, {{"type", "rate"}, {"rate", 1.5}});
  EXPECT_EQ(rate.at("playback").at("rate"), 1.5) << rate;
  EXPECT_EQ(room(host, id).at("playback").at("rate"), 1.5);

  // The host grants the guest control, then takes it back.
  const auto grant = [&](WsClient& ws, bool allowed) {
    return request(ws, id, {{"type", "room.control"}, {"user_id", guest.id}, {"allowed", allowed}});
  };
  EXPECT_EQ(grant(*guest_ws, true).at("code"), 403);
  const auto granted = grant(*host_ws, true);
  ASSERT_EQ(granted.at("can_control"), true) << granted;
  EXPECT_EQ(guest_ws->receive_until("participant.control").at("data").at("user_id"), guest.id);
  EXPECT_EQ(request(*guest_ws, id, {{"type", "pause"}}).at("playback").at("state"), "paused");
  const auto participants = room(host, id).at("participants");
  EXPECT_TRUE(std::all_of(participants.begin(), participants.end(),
                          [](const nlohmann::json& p) { return p.at("can_control") == true; }))
      << participants;
  grant(*host_ws, false);
  EXPECT_EQ(request(*guest_ws, id, {{"type", "play"}}).at("code"), 403);
  EXPECT_EQ(request(*host_ws, id, {{"type", "room.control"}, {"user_id", stranger.id}, {"allowed", true}}).at("code"),
            404);
}

// Acceptance 3: the state repeats every second while playing, and stops with a pause.
TEST_F(RoomsTest, HeartbeatRepeatsTheStateWhilePlaying) {
  const TestUser host = new_user("host"), guest = new_user();
  const std::string id = room_of(host);
  ASSERT_EQ(join(guest, id).status, 200);
  auto host_ws = listen(host, id);
  auto guest_ws = listen(guest, id);

  request(*host_ws, id, {{"type", "seek"}, {"position", 10}});
  const auto started = request(*host_ws, id, {{"type", "play"}}).at("playback");
  const auto first = next_playback(*guest_ws, "heartbeat");
  const auto second = next_playback(*guest_ws, "heartbeat");
  EXPECT_EQ(first.at("state"), "playing");
  for (const auto& beat : {first, second}) {
    const double elapsed = (beat.at("updated_at_ms").get<double>() - started.at("updated_at_ms").get<double>()) / 1000;
    EXPECT_NEAR(beat.at("position").get<double>(), 10.0 + elapsed, 0.001) << beat;
  }
  EXPECT_GT(second.at("updated_at_ms").get<double>(), first.at("updated_at_ms").get<double>());

  request(*host_ws, id, {{"type", "pause"}});
  EXPECT_EQ(next_playback(*guest_ws, "pause").at("state"), "paused");
  // Paused: nothing more arrives for well over a heartbeat.
  EXPECT_THROW(guest_ws->receive(std::chrono::milliseconds(2500)), std::runtime_error);
}

// Acceptance 3: time.sync (NTP-style) estimates the server's clock; on loopback it is ours.
TEST_F(RoomsTest, TimeSyncEstimatesTheServerClock) {
  const TestUser user = new_user();
  WsClient ws(stack().server.port());
  authenticate(ws, user.access_token);
  const auto millis = [] {
    return std::chrono::duration<double, std::milli>(std::chrono::system_clock::now().time_since_epoch()).count();
  };
  for (int i = 0; i < 5; ++i) {
    const double t0 = millis();
    ws.send({{"type", "time.sync"}, {"id", i}, {"t0", t0}});
    const auto reply = ws.receive_until("time.sync", i);
    const double t3 = millis();
    EXPECT_EQ(reply.at("t0").get<double>(), t0);
    const double t1 = reply.at("t1"), t2 = reply.at("t2");
    EXPECT_LE(t1, t2);
    const double offset = ((t1 - t0) + (t2 - t3)) / 2;
    EXPECT_LT(std::abs(offset), 20.0) << "t0 " << t0 << " t1 " << t1 << " t2 " << t2 << " t3 " << t3;
  }
  ws.send({{"type", "time.sync"}, {"id", "bad"}});
  EXPECT_EQ(ws.receive_until("error", "bad").at("code"), 400);
}

// Client requests are rate-limited per connection (ws_request_rate, 20 per second by default).
TEST_F(RoomsTest, ClientRequestsAreRateLimited) {
  const TestUser user = new_user();
  WsClient ws(stack().server.port());
  authenticate(ws, user.access_token);
  for (int i = 0; i < 40; ++i) ws.send({{"type", "time.sync"}, {"id", i}, {"t0", 0}});
  int limited = 0;
  for (int i = 0; i < 40; ++i) {
    const auto reply = ws.receive();
    if (reply.at("type") == "error") {
      EXPECT_EQ(reply.at("code"), 429) << reply;
      EXPECT_GE(reply.at("retry_after"), 1);
      ++limited;
    }
  }
  EXPECT_GT(limited, 0);
}

// Acceptance 4: with a 5 s slow mode a second message within 5 s is refused with the wait.
TEST_F(RoomsTest, SlowModeRefusesATooEarlyMessageWithTheSecondsLeft) {
  const TestUser host = new_user("host"), guest = new_user();
  const std::string id = room_of(host);
  ASSERT_EQ(join(guest, id).status, 200);
  auto host_ws = listen(host, id);
  auto guest_ws = listen(guest, id);

  EXPECT_EQ(request(*guest_ws, id, {{"type", "room.slow_mode"}, {"seconds", 5}}).at("code"), 403);  // host only
  const auto slow = request(*host_ws, id, {{"type", "room.slow_mode"}, {"seconds", 5}});
  ASSERT_EQ(slow.at("slow_mode_seconds"), 5) << slow;
  EXPECT_EQ(guest_ws->receive_until("room.slow_mode").at("data").at("slow_mode_seconds"), 5);
  EXPECT_EQ(room(guest, id).at("slow_mode_seconds"), 5);

  const auto first = request(*guest_ws, id, {{"type", "room.message"}, {"text", "hello"}});
  ASSERT_EQ(first.at("type"), "room.message") << first;
  EXPECT_EQ(first.at("message").at("text"), "hello");
  EXPECT_EQ(first.at("message").at("username"), guest.username);
  const auto heard = host_ws->receive_until("message.created").at("data").at("message");
  EXPECT_EQ(heard.at("id"), first.at("message").at("id"));

  const auto early = request(*guest_ws, id, {{"type", "room.message"}, {"text", "again"}});
  ASSERT_EQ(early.at("type"), "error") << early;
  EXPECT_EQ(early.at("code"), 429);
  const int wait = early.at("retry_after");
  EXPECT_GE(wait, 1);
  EXPECT_LE(wait, 5);
  EXPECT_NE(early.at("message").get<std::string>().find(std::to_string(wait) + " s"), std::string::npos) << early;

  // The host is exempt.
  EXPECT_EQ(request(*host_ws, id, {{"type", "room.message"}, {"text", "one"}}).at("type"), "room.message");
  EXPECT_EQ(request(*host_ws, id, {{"type", "room.message"}, {"text", "two"}}).at("type"), "room.message");

  // What is tested is the wait itself: after it, the message is accepted.
  std::this_thread::sleep_for(std::chrono::seconds(wait));
  const auto later = request(*guest_ws, id, {{"type", "room.message"}, {"text", "again"}});
  EXPECT_EQ(later.at("type"), "room.message") << later;
}

// Room chat: the last 50 messages on join, older ones by cursor, a length limit, the host deletes.
TEST_F(RoomsTest, ChatHistoryLengthLimitAndDeletes) {
  const TestUser host = new_user("host"), guest = new_user(), stranger = new_user();
  const std::string id = room_of(host);
  stack().db.exec("INSERT INTO room_messages (room_id, user_id, body, created_at) SELECT '" + id + "', " +
                  std::to_string(host.id) +
                  ", 'message ' || n, now() - make_interval(secs => 100 - n) FROM generate_series(1, 55) n");

  auto joined = join(guest, id);
  ASSERT_EQ(joined.status, 200) << joined;
  const auto history = joined.json().at("messages");
  ASSERT_EQ(history.at("messages").size(), 50u);
  EXPECT_EQ(history["messages"][0].at("text"), "message 55");  // newest first
  EXPECT_EQ(history["messages"][49].at("text"), "message 6");
  EXPECT_EQ(history["messages"][0].at("username"), host.username);
  const std::string cursor = history.at("next_cursor");
  auto older = http().get("/api/rooms/" + id + "/messages?cursor=" + cursor, guest.auth());
  ASSERT_EQ(older.status, 200) << older;
  ASSERT_EQ(older.json().at("messages").size(), 5u);
  EXPECT_EQ(older.json()["messages"][0].at("text"), "message 5");
  EXPECT_TRUE(older.json().at("next_cursor").is_null());
  EXPECT_TRUE(is_api_error(http().get("/api/rooms/" + id + "/messages", stranger.auth()), 404));
  EXPECT_TRUE(is_api_error(http().get("/api/rooms/" + id + "/messages?cursor=nope", guest.auth()), 422));

  auto guest_ws = listen(guest, id);
  auto host_ws = listen(host, id);
  EXPECT_EQ(request(*guest_ws, id, {{"type", "room.message"}, {"text", std::string(501, 'x')}}).at("code"), 422);
  EXPECT_EQ(request(*guest_ws, id, {{"type", "room.message"}, {"text", "  "}}).at("code"), 422);
  EXPECT_EQ(request(*guest_ws, id, {{"type", "room.message"}}).at("code"), 422);
  WsClient outsider(stack().server.port());
  authenticate(outsider, stranger.access_token);
  EXPECT_EQ(request(outsider, id, {{"type", "room.message"}, {"text", "let me in"}}).at("code"), 404);

  const auto sent = request(*guest_ws, id, {{"type", "room.message"}, {"text", std::string(500, 'y')}});
  ASSERT_EQ(sent.at("type"), "room.message") << sent;
  const std::string message_id = sent.at("message").at("id");
  EXPECT_EQ(request(*guest_ws, id, {{"type", "room.message.delete"}, {"message_id", message_id}}).at("code"), 403);
  const auto deleted = request(*host_ws, id, {{"type", "room.message.delete"}, {"message_id", message_id}});
  EXPECT_EQ(deleted.at("message_id"), message_id) << deleted;
  EXPECT_EQ(guest_ws->receive_until("message.deleted").at("data").at("message_id"), message_id);
  EXPECT_EQ(request(*host_ws, id, {{"type", "room.message.delete"}, {"message_id", message_id}}).at("code"), 404);
  const auto latest = http().get("/api/rooms/" + id + "/messages?limit=1", guest.auth()).json();
  EXPECT_EQ(latest.at("messages")[0].at("text"), "message 55");
}

// A closed socket counts as leaving after the grace period (1.5 s here); a reconnect within it keeps
// the seat; the host's closes the room.
TEST_F(RoomsTest, DisconnectCountsAsLeavingAfterTheGracePeriod) {
  const TestUser host = new_user("host"), guest = new_user();
  const std::string id = room_of(host);
  ASSERT_EQ(join(guest, id).status, 200);
  auto host_ws = listen(host, id);

  listen(guest, id)->close();
  auto back = listen(guest, id);  // within the grace
  // What is tested is that nothing happens when the grace runs out: wait past it.
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  EXPECT_EQ(room(host, id).at("participant_count"), 2);

  back->close();
  const auto left = host_ws->receive_until("participant.left").at("data");
  EXPECT_EQ(left.at("user_id"), guest.id);
  EXPECT_EQ(left.at("reason"), "disconnected");
  EXPECT_EQ(room(host, id).at("participant_count"), 1);

  ASSERT_EQ(join(guest, id).status, 200);
  auto guest_ws = listen(guest, id);
  host_ws->close();
  EXPECT_EQ(guest_ws->receive_until("room.closed").at("data").at("reason"), "host_disconnected");
  EXPECT_TRUE(is_api_error(http().get("/api/rooms/" + id, guest.auth()), 404));
}

}  // namespace
}  // namespace reelhub::testing
