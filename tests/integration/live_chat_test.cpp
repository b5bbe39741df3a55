// Live chat over the WebSocket ("stream.message", docs/realtime.md): any signed-in user writes
// to a started stream's chat, every subscriber of stream:<id> receives it; refusals change nothing.

#include <gtest/gtest.h>

#include "stack.hpp"
#include "users.hpp"
#include "live.hpp"
#include "ws_client.hpp"

namespace reelhub::testing {
namespace {

using nlohmann::json;

class LiveChatTest : public StackTest {
 protected:
  static void SetUpTestSuite() { start_stack(live_env()); }


  static json subscribe(WsClient& ws, const std::string& stream_id) {
    ws.send({{"type", "subscribe"}, {"topic", "stream:" + stream_id}, {"id", "s"}});
    return ws.receive_until("subscribed", "s");
  }
};

TEST_F(LiveChatTest, AMessageReachesEverySubscriberAndIsAnswered) {
  const TestUser streamer = register_and_login(http(), "chat_streamer", "streamer");
  const TestUser viewer = register_and_login(http(), "chat_viewer");
  const std::string stream = create_and_start(http(), streamer).id;
  WsClient streamer_ws(stack().server.port(), ws_with_token(streamer.access_token));
  WsClient viewer_ws(stack().server.port(), ws_with_token(viewer.access_token));
  subscribe(streamer_ws, stream);
  subscribe(viewer_ws, stream);

  viewer_ws.send({{"type", "stream.message"}, {"id", 7}, {"stream_id", stream}, {"text", "hello from the viewer"}});
  // On the sender's socket the published event may come before or after its own reply.
  std::vector<json> before_reply;
  const json reply = viewer_ws.receive_until("stream.message", 7, &before_reply);
  EXPECT_EQ(reply["stream_id"], stream);
  EXPECT_EQ(reply["message"]["text"], "hello from the viewer");
  EXPECT_EQ(reply["message"]["user_id"], viewer.id);
  EXPECT_EQ(reply["message"]["username"], viewer.username);

  const auto published = [&](WsClient& ws, std::vector<json> seen) {
    for (const json& event : seen)
      if (event.value("type", "") == "stream.message" && event.contains("topic")) return event;
    json event;
    do {
      event = ws.receive_until("stream.message");
    } while (!event.contains("topic"));
    return event;
  };
  for (const json& event : {published(streamer_ws, {}), published(viewer_ws, before_reply)}) {
    EXPECT_EQ(event["topic"], "stream:" + stream);
    EXPECT_EQ(event["data"]["message"]["id"], reply["message"]["id"]);
    EXPECT_EQ(event["data"]["message"]["text"], "hello from the viewer");
  }
}

TEST_F(LiveChatTest, RefusalsNameTheProblem) {
  const TestUser streamer = register_and_login(http(), "chat_streamer", "streamer");
  const auto created = http().post_json("/api/streams", {{"name", "Not started"}}, streamer.auth());
  ASSERT_EQ(created.status, 201) << created;
  const std::string not_started = created.json()["stream_id"];
  const std::string live = create_and_start(http(), streamer).id;
  WsClient ws(stack().server.port(), ws_with_token(streamer.access_token));
  const auto refusal = [&](const json& message) {
    ws.send(message);
    return ws.receive_until("error", message["id"]);
  };
  EXPECT_EQ(refusal({{"type", "stream.message"}, {"id", 1}, {"stream_id", not_started}, {"text", "hi"}})["code"], 409);
  EXPECT_EQ(refusal({{"type", "stream.message"}, {"id", 2}, {"stream_id", live}, {"text", "   "}})["code"], 422);
  EXPECT_EQ(refusal({{"type", "stream.message"}, {"id", 3}, {"stream_id", live}, {"text", std::string(501, 'a')}})["code"],
            422);
  EXPECT_EQ(refusal({{"type", "stream.message"}, {"id", 4}, {"stream_id", live}, {"text", "bell\a"}})["code"], 422);
  EXPECT_EQ(refusal({{"type", "stream.message"}, {"id", 5}, {"stream_id", "no-such-stream"}, {"text", "hi"}})["code"],
            404);
  EXPECT_EQ(refusal({{"type", "stream.message"}, {"id", 6}, {"stream_id",
                                                              "3f1c8a52-6d0e-4b7a-9c21-5e8f0a7b9d14"}, {"text", "hi"}})["code"],
            404);
  EXPECT_EQ(refusal({{"type", "stream.message"}, {"id", 8}, {"stream_id", live}})["code"], 422);
  // The connection stays usable after the refusals.
  ws.send({{"type", "ping"}, {"id", 9}});
  EXPECT_EQ(ws.receive_until("pong", 9)["type"], "pong");
}

}  // namespace
}  // namespace reelhub::testing
