// GET /ws against the real server: authentication, the JSON protocol, bad frames (acceptance 5),
// the slow consumer (acceptance 4), keepalive, the connect rate limit, connection limits and the
// SIGTERM drain. Events are published by a second hub in this test process (HubInstance), i.e.
// through PostgreSQL exactly as another instance would: no module is involved.

#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "expectations.hpp"
#include "hub_instance.hpp"
#include "stack.hpp"
#include "users.hpp"
#include "ws_client.hpp"

namespace reelhub::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

class WsTest : public StackTest {
 protected:
  static void SetUpTestSuite() {
    start_stack(ws_env({{"REELHUB_WS_QUEUE_MAX_MESSAGES", "256"},
                        {"REELHUB_WS_QUEUE_MAX_BYTES", "262144"},
                        {"REELHUB_WS_AUTH_TIMEOUT_MS", "1000"}}));
  }
  static void TearDownTestSuite() {
    publisher_.reset();
    StackTest::TearDownTestSuite();
  }
  void SetUp() override {
    StackTest::SetUp();
    if (!HasFatalFailure() && !publisher_) publisher_ = std::make_unique<HubInstance>(stack().db.url());
  }

  /// Another instance's hub on the test database.
  static ws::LiveHub& publisher() { return publisher_->hub(); }
  std::uint16_t port() { return stack().server.port(); }

  /// A connection of `user`, authenticated through the query string, after its "authenticated".
  /// Returns once the other instance sees the user online, i.e. once the server's LISTEN is up.
  std::unique_ptr<WsClient> connect(const TestUser& user, WsOptions options = {}) {
    options.target = ws_target_with_token(user.access_token);
    auto ws = std::make_unique<WsClient>(port(), options);
    auto hello = ws->receive();
    EXPECT_EQ(hello.value("type", ""), "authenticated") << hello;
    EXPECT_TRUE(eventually([&] { return publisher().is_online(user.id); })) << "presence never reached the other instance";
    return ws;
  }

 private:
  static inline std::unique_ptr<HubInstance> publisher_;
};

TEST_F(WsTest, QueryTokenAuthenticatesAndJoinsThePersonalTopic) {
  const TestUser user = register_and_login(http(), "wsq");
  WsClient ws(port(), ws_with_token(user.access_token));
  const json hello = ws.receive();
  EXPECT_EQ(hello.at("type"), "authenticated");
  EXPECT_EQ(hello.at("user_id"), user.id);
  EXPECT_EQ(hello.at("username"), user.username);
  EXPECT_EQ(hello.at("topic"), "user:" + std::to_string(user.id));
  EXPECT_TRUE(hello.at("offset").is_number_unsigned());
  EXPECT_FALSE(hello.at("epoch").get<std::string>().empty());

  ws.send({{"type", "ping"}, {"id", 7}});
  EXPECT_EQ(ws.receive(), (json{{"type", "pong"}, {"id", 7}}));
}

TEST_F(WsTest, FirstMessageAuthenticatesAndTheReplyEchoesItsId) {
  const TestUser user = register_and_login(http(), "wsm");
  WsClient ws(port());
  ws.send({{"type", "authenticate"}, {"token", user.access_token}, {"id", "a1"}});
  const json hello = ws.receive();
  EXPECT_EQ(hello.at("type"), "authenticated");
  EXPECT_EQ(hello.at("id"), "a1");
  EXPECT_EQ(hello.at("user_id"), user.id);

  // Authenticating again renews the connection's token (sessions_test covers expiry).
  ws.send({{"type", "authenticate"}, {"token", user.access_token}, {"id", "a2"}});
  const json again = ws.receive();
  EXPECT_EQ(again.at("type"), "authenticated");
  EXPECT_EQ(again.at("user_id"), user.id);
  EXPECT_EQ(again.at("id"), "a2");
}

TEST_F(WsTest, BadTokensAndLateOrMissingAuthenticationCloseWith4401) {
  {
    WsOptions bad;
    bad.target = ws_target_with_token("not-a-jwt");
    WsClient ws(port(), bad);
    EXPECT_EQ(ws.await_close(), 4401);
  }
  {
    WsClient ws(port());
    ws.send({{"type", "authenticate"}, {"token", "not-a-jwt"}});
    EXPECT_EQ(ws.await_close(), 4401);
  }
  {
    WsClient ws(port());
    ws.send({{"type", "subscribe"}, {"topic", "user:1"}});
    EXPECT_EQ(ws.await_close(), 4401) << "a request before authenticate";
  }
  {
    const auto start = std::chrono::steady_clock::now();
    WsClient ws(port());  // says nothing: REELHUB_WS_AUTH_TIMEOUT_MS=1000
    EXPECT_EQ(ws.await_close(), 4401);
    EXPECT_GE(std::chrono::steady_clock::now() - start, 900ms);
  }
}

TEST_F(WsTest, PlainGetOfTheEndpointIs400) {
  const HttpResponse res = http().get("/ws");
  EXPECT_TRUE(is_api_error(res, 400)) << res;
}

// Acceptance 5: each bad frame gets an error or the right close code; everyone else is served.
TEST_F(WsTest, BadFramesAreAnsweredAndTheServerKeepsServingOthers) {
  const TestUser user = register_and_login(http(), "wsbad");
  const TestUser other = register_and_login(http(), "wsother");
  auto bystander = connect(other);
  auto ws = connect(user);

  auto expect_error = [&](const json& reply, int code, const json& id) {
    EXPECT_EQ(reply.at("type"), "error") << reply;
    EXPECT_EQ(reply.at("code"), code) << reply;
    EXPECT_FALSE(reply.at("message").get<std::string>().empty()) << reply;
    if (id.is_null()) EXPECT_FALSE(reply.contains("id")) << reply;
    else EXPECT_EQ(reply.at("id"), id) << reply;
  };
  ws->send_text("this is not JSON");
  expect_error(ws->receive(), 400, nullptr);
  ws->send_text("[1, 2, 3]");
  expect_error(ws->receive(), 400, nullptr);
  ws->send({{"type", "teleport"}, {"id", "u1"}});
  expect_error(ws->receive(), 400, "u1");
  ws->send({{"type", "subscribe"}, {"topic", "user:" + std::to_string(other.id)}, {"id", 2}});
  expect_error(ws->receive(), 403, 2);
  ws->send({{"type", "subscribe"}, {"topic", "nosuchfamily:1"}, {"id", 3}});
  expect_error(ws->receive(), 404, 3);
  ws->send({{"type", "subscribe"}, {"topic", "no topic"}, {"id", 4}});
  expect_error(ws->receive(), 400, 4);
  ws->send({{"type", "ping"}, {"id", 5}});
  EXPECT_EQ(ws->receive(), (json{{"type", "pong"}, {"id", 5}})) << "the connection survives bad requests";

  ws->send_binary(std::string("\x00\x01\x02", 3));
  EXPECT_EQ(ws->await_close(), 1003) << "binary frames: unsupported data";

  auto big = connect(user);
  big->send_text(json{{"type", "ping"}, {"pad", std::string(70 * 1024, 'x')}}.dump());  // over 64 KiB
  EXPECT_EQ(big->await_close(), 1009);

  // Others were served throughout, and still are.
  bystander->send({{"type", "ping"}, {"id", "still"}});
  EXPECT_EQ(bystander->receive_until("pong").at("id"), "still");
  publisher().send_to_user(other.id, "notification.new", {{"n", 1}});
  const json event = bystander->receive_until("notification.new");
  EXPECT_EQ(event.at("topic"), "user:" + std::to_string(other.id));
  auto fresh = connect(user);
  fresh->send({{"type", "ping"}, {"id", 1}});
  EXPECT_EQ(fresh->receive().at("type"), "pong");
}

TEST_F(WsTest, EventsCarryTopicOffsetEpochAndUnsubscribeStopsThem) {
  const TestUser user = register_and_login(http(), "wsev");
  auto a = connect(user);
  auto b = connect(user);
  const std::string topic = "user:" + std::to_string(user.id);

  publisher().send_to_user(user.id, "probe", {{"attempt", 1}});
  const json first = a->receive_until("probe");
  EXPECT_EQ(first.at("topic"), topic);
  EXPECT_TRUE(is_iso8601_utc(first.at("ts"))) << first;
  EXPECT_TRUE(first.at("data").contains("attempt"));
  b->receive_until("probe");  // b is subscribed too: its own copy

  publisher().send_to_user(user.id, "notification.new", {{"n", 1}});
  const json second = a->receive_until("notification.new");
  EXPECT_EQ(second.at("offset"), first.at("offset").get<std::uint64_t>() + 1);
  EXPECT_EQ(second.at("epoch"), first.at("epoch"));
  EXPECT_EQ(second.at("data"), (json{{"n", 1}}));
  b->receive_until("notification.new");

  // Resubscribing answers with the position; unsubscribing stops delivery to that connection only.
  a->send({{"type", "subscribe"}, {"topic", topic}, {"id", "s"}});
  const json subscribed = a->receive_until("subscribed", "s");
  EXPECT_EQ(subscribed.at("topic"), topic);
  EXPECT_EQ(subscribed.at("offset"), second.at("offset"));
  EXPECT_FALSE(subscribed.contains("recovered")) << "no position given, no recovery asked";
  a->send({{"type", "unsubscribe"}, {"topic", topic}, {"id", "u"}});
  EXPECT_EQ(a->receive_until("unsubscribed", "u").at("topic"), topic);

  publisher().send_to_user(user.id, "after", json::object());
  b->receive_until("after");
  a->send({{"type", "ping"}, {"id", "p"}});
  std::vector<json> before_pong;
  a->receive_until("pong", "p", &before_pong);
  for (const auto& m : before_pong) EXPECT_NE(m.value("type", ""), "after") << "delivered after unsubscribe";
}

// Acceptance 4: a client that stops reading is cut off once its bounded queue is full; another
// client on the same topic receives everything, and the server's queues drain back to zero.
TEST_F(WsTest, SlowConsumerIsDisconnectedWhileOthersKeepReceiving) {
  const TestUser user = register_and_login(http(), "wsslow");
  WsOptions tiny;
  tiny.receive_buffer = 4096;  // so the kernel cannot soak up the backlog for the server
  auto slow = connect(user, tiny);
  auto fast = connect(user);
  // From here on the slow client reads nothing.

  const double slow_before = metric_value(http(), "reelhub_ws_slow_consumer_disconnects_total");
  const double dropped_before = metric_value(http(), "reelhub_ws_messages_dropped_total");
  constexpr int kEvents = 3000;
  const std::string pad(4000, 'p');
  std::atomic<int> received{0};
  std::atomic<bool> in_order{true};
  std::thread reader([&] {
    std::uint64_t last = 0;
    try {
      while (received < kEvents) {
        const json e = fast->receive_until("bulk");
        if (last && e.at("offset").get<std::uint64_t>() != last + 1) in_order = false;
        last = e.at("offset").get<std::uint64_t>();
        ++received;
      }
    } catch (const std::exception& e) {
      ADD_FAILURE() << "the fast client stopped receiving after " << received << " events: " << e.what();
    }
  });
  // What the slow client gets once it reads again: part of the backlog, then 1008. It must read
  // within the server's close timeout (5 s) of being cut off, so it does so as soon as that shows.
  int slow_got = 0;
  int slow_code = 0;
  auto drain_slow = [&] {
    try {
      for (;;)
        if (slow->receive().value("type", "") == "bulk") ++slow_got;
    } catch (const WsClosed& e) {
      slow_code = e.code;
    }
  };
  for (int i = 0; i < kEvents; ++i) {
    publisher().send_to_user(user.id, "bulk", {{"i", i}, {"pad", pad}});
    // Paced so the fast client's bounded queue (256 frames) is never the limit: bursts stay small.
    if (i % 20 == 19) std::this_thread::sleep_for(5ms);
    if (i % 100 == 99 && !slow_code &&
        metric_value(http(), "reelhub_ws_slow_consumer_disconnects_total") > slow_before)
      drain_slow();
  }
  reader.join();
  EXPECT_EQ(received, kEvents) << "the fast client missed events";
  EXPECT_TRUE(in_order);
  EXPECT_EQ(slow_code, 1008) << "the slow client was not closed for overflowing its queue";
  EXPECT_LT(slow_got, kEvents);

  EXPECT_EQ(metric_value(http(), "reelhub_ws_slow_consumer_disconnects_total"), slow_before + 1)
      << "exactly one connection (the slow one) should have been cut off";
  EXPECT_GT(metric_value(http(), "reelhub_ws_messages_dropped_total"), dropped_before);
  EXPECT_TRUE(eventually([&] { return metric_value(http(), "reelhub_ws_queue_bytes") == 0; }))
      << "queued bytes did not return to zero: " << metric_value(http(), "reelhub_ws_queue_bytes");
}

TEST(WsLimitsTest, ConnectRateLimitAnswers429) {
  auto env = relaxed_rate_limits();
  auto rules = json::parse(env["REELHUB_RATE_LIMITS"]);
  rules["ws_connect"] = {{"limit", 5}, {"window_seconds", 60}};  // the default policy, whatever the harness relaxes
  env["REELHUB_RATE_LIMITS"] = rules.dump();
  Stack stack(env);
  const TestUser user = register_and_login(stack.http(), "wsrate");
  for (int i = 0; i < 5; ++i) {
    WsClient ws(stack.server.port(), ws_with_token(user.access_token));
    EXPECT_EQ(ws.receive().at("type"), "authenticated");
  }
  try {
    WsClient refused(stack.server.port(), ws_with_token(user.access_token));
    ADD_FAILURE() << "the sixth connect within a minute was accepted";
  } catch (const WsRefused& e) {
    EXPECT_EQ(e.status, 429);
  }
  stack.server.send_signal(SIGTERM);
  EXPECT_TRUE(exits_cleanly(stack.server));
}

TEST(WsLimitsTest, WebSocketsCountAgainstMaxConnections) {
  Stack stack(ws_env({{"REELHUB_MAX_CONNECTIONS", "3"}}));
  const TestUser user = register_and_login(stack.http(), "wsmax");
  std::vector<std::unique_ptr<WsClient>> open;
  for (int i = 0; i < 3; ++i) {
    open.push_back(std::make_unique<WsClient>(stack.server.port(), ws_with_token(user.access_token)));
    open.back()->receive();
  }
  EXPECT_EQ(stack.http().get("/health").status, 503) << "three WebSockets fill max_connections=3";
  open.back()->close();
  open.pop_back();
  EXPECT_TRUE(eventually([&] { return stack.http().get("/health").status == 200; }));
  open.clear();
  stack.server.send_signal(SIGTERM);
  EXPECT_TRUE(exits_cleanly(stack.server));
}

TEST(WsKeepaliveTest, ClientThatNeverAnswersPingsIsClosedWith4408) {
  Stack stack(ws_env({{"REELHUB_WS_PING_INTERVAL_MS", "300"}, {"REELHUB_WS_MAX_MISSED_PONGS", "2"}}));
  const TestUser user = register_and_login(stack.http(), "wsping");
  WsClient silent(stack.server.port(), ws_with_token(user.access_token));
  WsClient lively(stack.server.port(), ws_with_token(user.access_token));
  silent.receive();
  lively.receive();

  // The lively client keeps reading (its client library answers pings); the silent one does not.
  for (int i = 0; i < 10; ++i) {
    lively.send({{"type", "ping"}, {"id", i}});
    lively.receive_until("pong", i);
    std::this_thread::sleep_for(150ms);
  }
  EXPECT_EQ(silent.await_close(), 4408) << "two unanswered pings 300 ms apart";
  lively.send({{"type", "ping"}, {"id", "end"}});
  EXPECT_EQ(lively.receive_until("pong", "end").at("type"), "pong");
  lively.close();
  stack.server.send_signal(SIGTERM);
  EXPECT_TRUE(exits_cleanly(stack.server));
}

TEST(WsDrainTest, SigtermClosesWebSocketsWith1001AndExitsPromptly) {
  Stack stack(ws_env());
  const TestUser user = register_and_login(stack.http(), "wsdrain");
  WsClient a(stack.server.port(), ws_with_token(user.access_token));
  WsClient b(stack.server.port(), ws_with_token(user.access_token));
  a.receive();
  b.receive();
  const auto start = std::chrono::steady_clock::now();
  stack.server.send_signal(SIGTERM);
  EXPECT_EQ(a.await_close(), 1001);
  EXPECT_EQ(b.await_close(), 1001);
  EXPECT_TRUE(exits_cleanly(stack.server, 15s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s) << "open WebSockets held the drain up";
}

}  // namespace
}  // namespace reelhub::testing
