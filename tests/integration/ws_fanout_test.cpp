// The hub across instances and across time: PostgreSQL fan-out between hubs and between two
// server processes (acceptance 3),
// presence, large events through ws_outbox, offset recovery without the database and a new epoch
// after a restart (acceptance 6), and a fan-out that survives PostgreSQL restarting.
//
// "Another instance" is a ws::LiveHub in this test process (HubInstance): the very class
// `reelhub serve` runs, on the same database, so an event it publishes reaches the server's
// sockets exactly as one from a second server process would.

#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <mutex>
#include <set>
#include <pqxx/pqxx>
#include <thread>

#include "expectations.hpp"
#include "hub_instance.hpp"
#include "pg_cluster.hpp"
#include "server_process.hpp"
#include "stack.hpp"
#include "test_database.hpp"
#include "users.hpp"
#include "ws_client.hpp"

namespace reelhub::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

/// A hub subscriber that records the frames it is sent.
class Recorder : public ws::Subscriber {
 public:
  explicit Recorder(std::int64_t user_id = 0) : user_id_(user_id) {}
  std::int64_t user_id() const override { return user_id_; }
  void send(std::shared_ptr<const std::string> frame) override {
    std::lock_guard lock(mutex_);
    frames_.push_back(json::parse(*frame));
  }
  std::vector<json> frames() const {
    std::lock_guard lock(mutex_);
    return frames_;
  }

 private:
  std::int64_t user_id_;
  mutable std::mutex mutex_;
  std::vector<json> frames_;
};

std::shared_ptr<Recorder> subscribe(ws::LiveHub& hub, const std::string& topic, std::int64_t user_id = 0) {
  auto r = std::make_shared<Recorder>(user_id);
  hub.subscribe(topic, r, std::nullopt, [](const ws::Subscription&) {});
  return r;
}

/// Opens a connection authenticated by query token and returns it after its "authenticated".
std::unique_ptr<WsClient> connect(const ServerProcess& server, const TestUser& user, json* hello = nullptr) {
  auto ws = std::make_unique<WsClient>(server.port(), ws_with_token(user.access_token));
  json first = ws->receive();
  EXPECT_EQ(first.value("type", ""), "authenticated") << first;
  if (hello) *hello = first;
  return ws;
}

// Acceptance 3, at the hub: each instance's events reach the other's subscribers exactly once.
TEST(WsFanoutTest, HubsOnOneDatabaseShareEventsPresenceAndLargePayloads) {
  TestDatabase db;
  HubInstance a(db.url()), b(db.url());
  auto on_a = subscribe(a.hub(), "chat:x");
  auto on_b = subscribe(b.hub(), "chat:x");
  // Presence doubles as the readiness probe: once a user shows up on the other side, that hub's
  // LISTEN connection is up.
  b.hub().user_connected(42);
  a.hub().user_connected(43);
  ASSERT_TRUE(eventually([&] { return a.hub().is_online(42) && b.hub().is_online(43); }));
  EXPECT_FALSE(a.hub().is_online(44));

  a.hub().publish("chat:x", "message.new", {{"n", 1}});
  b.hub().publish("chat:x", "message.new", {{"n", 2}});
  // Over NOTIFY's 8000-byte limit: the payload travels through ws_outbox, intact. Published after the
  // small events from both sides, it is also the marker for "exactly once": a hub that echoed its own
  // notification back to itself would have received that echo before this later one (one session's
  // notifications arrive in order), so counting after it arrives is enough — no sleep needed.
  const std::string blob(20000, 'z');
  a.hub().publish("chat:x", "big", {{"blob", blob}});
  b.hub().publish("chat:x", "end", json::object());
  const auto seen_all = [](const std::vector<json>& frames) {
    std::set<std::string> types;
    for (const json& f : frames) types.insert(f.at("type").get<std::string>());
    return types.count("big") == 1 && types.count("end") == 1;
  };
  ASSERT_TRUE(eventually([&] { return seen_all(on_a->frames()) && seen_all(on_b->frames()); }));
  for (const auto& frames : {on_a->frames(), on_b->frames()}) {
    ASSERT_EQ(frames.size(), 4u) << "an instance delivered a notification twice";
    // Offsets are each instance's own, in arrival order (which of two instances' events comes first
    // is not determined: the other's NOTIFY may overtake a local publish).
    std::multiset<int> ns;
    for (std::size_t i = 0; i < frames.size(); ++i) {
      EXPECT_EQ(frames[i].at("offset"), i + 1);
      if (frames[i].at("type") == "message.new") ns.insert(frames[i].at("data").at("n").get<int>());
    }
    EXPECT_EQ(ns, (std::multiset<int>{1, 2}));
  }
  const auto find = [](const std::vector<json>& frames, const std::string& type, int n) {
    for (const json& f : frames)
      if (f.at("type") == type && (n == 0 || f.at("data").value("n", 0) == n)) return f;
    return json();
  };
  EXPECT_EQ(find(on_b->frames(), "message.new", 1).at("ts"), find(on_a->frames(), "message.new", 1).at("ts"))
      << "ts is set once, by the publisher";
  EXPECT_EQ(find(on_b->frames(), "big", 0).at("data").at("blob"), blob);
  pqxx::connection conn(db.url());
  pqxx::work tx(conn);
  EXPECT_GE(tx.exec1("SELECT count(*) FROM ws_outbox")[0].as<int>(), 1);

  b.hub().user_disconnected(42);
  EXPECT_TRUE(eventually([&] { return !a.hub().is_online(42); })) << "the last connection closed";
  b.hub().user_connected(45);
  ASSERT_TRUE(eventually([&] { return a.hub().is_online(45); }));
  b.hub().stop();  // an instance that stops takes its users' presence with it
  EXPECT_FALSE(a.hub().is_online(45));
}

// Acceptance 3, end to end: an event published by another instance reaches a socket of the server.
TEST(WsFanoutTest, EventFromAnotherInstanceReachesTheServersSockets) {
  Stack stack(ws_env());
  HubInstance other(stack.db.url());
  const TestUser user = register_and_login(stack.http(), "wsx");
  auto ws = connect(stack.server, user);
  ASSERT_TRUE(eventually([&] { return other.hub().is_online(user.id); }));
  other.hub().send_to_user(user.id, "notification.new", {{"text", "hello from the other instance"}});
  const json event = ws->receive_until("notification.new");
  EXPECT_EQ(event.at("data").at("text"), "hello from the other instance");
  EXPECT_EQ(event.at("topic"), "user:" + std::to_string(user.id));

  ws.reset();
  EXPECT_TRUE(eventually([&] { return !other.hub().is_online(user.id); })) << "presence outlived the connection";
  stack.server.send_signal(SIGTERM);
  EXPECT_TRUE(exits_cleanly(stack.server));
}

// An event's audience holds on every instance: a user it is hidden from gets it nowhere, and the
// user it is last for is unsubscribed everywhere after it (group blocks and leaving, chats module).
TEST(WsFanoutTest, AnEventsAudienceHoldsOnOtherInstances) {
  TestDatabase db;
  HubInstance a(db.url()), b(db.url());
  auto blocked = subscribe(b.hub(), "chat:y", 7);
  auto leaver = subscribe(b.hub(), "chat:y", 8);
  b.hub().user_connected(42);
  ASSERT_TRUE(eventually([&] { return a.hub().is_online(42); }));

  a.hub().publish("chat:y", "message.new", {{"n", 1}}, ws::Audience{.hidden_from = {7}});
  a.hub().publish("chat:y", "member.left", {{"n", 2}}, ws::Audience{.last_for = 8});
  a.hub().publish("chat:y", "message.new", {{"n", 3}});
  ASSERT_TRUE(eventually([&] { return blocked->frames().size() >= 2; }));
  const auto ns = [](const std::vector<json>& frames) {
    std::vector<int> out;
    for (const auto& f : frames) out.push_back(f.at("data").at("n"));
    return out;
  };
  // b delivers in order, so the leaver's frame 3 would be there by now.
  EXPECT_EQ(ns(blocked->frames()), (std::vector<int>{2, 3}));
  EXPECT_EQ(ns(leaver->frames()), (std::vector<int>{1, 2}));
}

// Acceptance 3 with two `reelhub serve` processes: chat messages sent through one reach the other's
// sockets, both ways (the chats module publishes; the hubs carry it over PostgreSQL).
TEST(WsFanoutTest, ChatMessagesCrossBetweenTwoServerProcesses) {
  TestDatabase db;
  ServerProcess one(ServerOptions{db.url(), ws_env()});
  ServerProcess two(ServerOptions{db.url(), ws_env()});
  HubInstance probe(db.url());  // its presence view tells when both servers listen
  TestUser a = register_and_login(one.http(), "wsone");
  TestUser b = register_and_login(one.http(), "wstwo");
  TestUser b_on_two = b;
  log_in(two.http(), b_on_two);  // each server signs tokens with its own secret
  const HttpResponse created =
      one.http().post_json("/chats/create", {{"type", "direct"}, {"member_ids", {b.id}}}, a.auth());
  ASSERT_EQ(created.status, 201) << created;
  const std::string topic = "chat:" + created.json().at("id").get<std::string>();

  auto on_one = connect(one, a);
  auto on_two = connect(two, b_on_two);
  for (auto* ws : {on_one.get(), on_two.get()}) {
    ws->send({{"type", "subscribe"}, {"topic", topic}, {"id", "s"}});
    ASSERT_EQ(ws->receive_until("subscribed", "s").at("topic"), topic);
  }
  ASSERT_TRUE(eventually([&] { return probe.hub().is_online(a.id) && probe.hub().is_online(b.id); }));

  const std::string path = "/chats/" + topic.substr(5) + "/send";
  const HttpResponse sent = one.http().post_json(path, {{"text", "from one"}, {"client_msg_id", "x-1"}}, a.auth());
  ASSERT_EQ(sent.status, 201) << sent;
  const json there = on_two->receive_until("message.new");
  EXPECT_EQ(there.at("topic"), topic);
  EXPECT_EQ(there.at("data").at("id"), sent.json().at("id"));
  EXPECT_EQ(there.at("data").at("text"), "from one");

  const HttpResponse reply = two.http().post_json(path, {{"text", "from two"}, {"client_msg_id", "x-2"}}, b_on_two.auth());
  ASSERT_EQ(reply.status, 201) << reply;
  EXPECT_EQ(on_one->receive_until("message.new").at("data").at("text"), "from one");  // its own, locally
  EXPECT_EQ(on_one->receive_until("message.new").at("data").at("text"), "from two");

  on_one.reset();
  on_two.reset();
  for (auto* server : {&one, &two}) {
    server->send_signal(SIGTERM);
    EXPECT_TRUE(exits_cleanly(*server));
  }
}

// Acceptance 6: within one server lifetime, 100 missed events come back from the ring, with the
// database stopped to prove no query is involved; after a restart the epoch differs and the
// client is told recovered:false.
TEST(WsFanoutTest, RecoveryFromTheRingNeedsNoDatabaseAndARestartChangesTheEpoch) {
  PgCluster cluster;
  TestDatabase db(cluster.admin_url());
  auto server = std::make_unique<ServerProcess>(ServerOptions{db.url(), ws_env()});
  HubInstance publisher(db.url());
  TestUser user = register_and_login(server->http(), "wsrec");
  const std::string topic = "user:" + std::to_string(user.id);

  auto observer = connect(*server, user);  // stays connected: tells us when the server has the events
  json hello;
  auto client = connect(*server, user, &hello);
  const std::string epoch = hello.at("epoch");
  ASSERT_TRUE(eventually([&] { return publisher.hub().is_online(user.id); }));
  publisher.hub().send_to_user(user.id, "tick", {{"n", 0}});
  const std::uint64_t last_seen = client->receive_until("tick").at("offset");
  client.reset();  // the flaky mobile connection drops

  for (int n = 1; n <= 100; ++n) publisher.hub().send_to_user(user.id, "tick", {{"n", n}});
  for (int n = 0; n <= 100; ++n) ASSERT_EQ(observer->receive_until("tick").at("data").at("n"), n);

  cluster.stop();  // from here on any database query fails
  auto back = connect(*server, user);
  back->send({{"type", "subscribe"}, {"topic", topic}, {"offset", last_seen}, {"epoch", epoch}, {"id", "r"}});
  const json reply = back->receive_until("subscribed", "r");
  EXPECT_EQ(reply.at("recovered"), true) << reply;
  EXPECT_EQ(reply.at("epoch"), epoch);
  for (int n = 1; n <= 100; ++n) {
    const json e = back->receive();
    ASSERT_EQ(e.at("type"), "tick") << e;
    EXPECT_EQ(e.at("offset"), last_seen + n);
    EXPECT_EQ(e.at("data").at("n"), n);
  }

  observer.reset();
  back.reset();
  server->send_signal(SIGTERM);
  EXPECT_TRUE(exits_cleanly(*server)) << "stopping with the database down";
  cluster.start();
  server = std::make_unique<ServerProcess>(ServerOptions{db.url(), ws_env()});
  log_in(server->http(), user);  // each test server signs with its own secret
  auto after = connect(*server, user);
  after->send({{"type", "subscribe"}, {"topic", topic}, {"offset", last_seen + 100}, {"epoch", epoch}, {"id", "r2"}});
  const json lost = after->receive_until("subscribed", "r2");
  EXPECT_EQ(lost.at("recovered"), false) << lost;
  EXPECT_NE(lost.at("epoch"), epoch) << "a restarted server must not reuse the old epoch";
  server->send_signal(SIGTERM);
  EXPECT_TRUE(exits_cleanly(*server));
}

// The LISTEN connection comes back by itself after PostgreSQL restarts, and because events may have
// been missed meanwhile, the topics continue under a new epoch.
TEST(WsFanoutTest, FanoutSurvivesADatabaseRestartUnderANewEpoch) {
  PgCluster cluster;
  TestDatabase db(cluster.admin_url());
  ServerProcess server(ServerOptions{db.url(), ws_env()});
  HubInstance publisher(db.url());
  const TestUser user = register_and_login(server.http(), "wspg");
  json hello;
  auto ws = connect(server, user, &hello);
  ASSERT_TRUE(eventually([&] { return publisher.hub().is_online(user.id); }));
  publisher.hub().send_to_user(user.id, "before", json::object());
  ASSERT_EQ(ws->receive_until("before").at("epoch"), hello.at("epoch"));

  cluster.stop();
  std::this_thread::sleep_for(500ms);
  cluster.start();

  // Events published before the server listens again are lost to it (that is the gap): keep
  // publishing until one arrives.
  std::atomic<bool> received{false};
  json event;
  std::thread reader([&] {
    try {
      event = ws->receive_until("after");
    } catch (const std::exception& e) {
      ADD_FAILURE() << "no event after the database restart: " << e.what();
    }
    received = true;
  });
  for (int i = 0; i < 100 && !received; ++i) {
    publisher.hub().send_to_user(user.id, "after", {{"i", i}});
    std::this_thread::sleep_for(100ms);
  }
  reader.join();
  ASSERT_TRUE(event.is_object());
  EXPECT_NE(event.at("epoch"), hello.at("epoch")) << "the gap must show as a new epoch";
  EXPECT_TRUE(eventually([&] { return publisher.hub().is_online(user.id); })) << "presence was not restored";
  EXPECT_GE(metric_value(server.http(), "reelhub_ws_fanout_reconnects_total"), 2);
  server.send_signal(SIGTERM);
  EXPECT_TRUE(exits_cleanly(server));
}

}  // namespace
}  // namespace reelhub::testing
