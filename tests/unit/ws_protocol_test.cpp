// The JSON protocol of GET /ws: request parsing (table-driven) and the frames the server sends.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "reelhub/ws/protocol.hpp"

namespace reelhub::ws {
namespace {

using nlohmann::json;

struct Refused {
  const char* name;
  const char* text;
  const char* message_part;
};

TEST(WsProtocol, RefusesMalformedRequestsWithBadRequest) {
  const std::vector<Refused> cases = {
      {"not JSON", "hello", "Malformed JSON"},
      {"truncated JSON", R"({"type":"ping")", "Malformed JSON"},
      {"array", R"([1,2])", "JSON object"},
      {"no type", R"({"id":1})", "'type'"},
      {"type not a string", R"({"type":5})", "'type'"},
      {"unknown type", R"({"type":"publish"})", "Unknown message type 'publish'"},
      {"authenticate without token", R"({"type":"authenticate"})", "'token'"},
      {"empty token", R"({"type":"authenticate","token":""})", "'token'"},
      {"subscribe without topic", R"({"type":"subscribe"})", "'topic'"},
      {"topic without family", R"({"type":"subscribe","topic":"abc"})", "<family>:<id>"},
      {"topic with empty id", R"({"type":"subscribe","topic":"chat:"})", "<family>:<id>"},
      {"topic with slash", R"({"type":"subscribe","topic":"chat:a/b"})", "<family>:<id>"},
      {"upper-case family", R"({"type":"subscribe","topic":"Chat:1"})", "<family>:<id>"},
      {"offset without epoch", R"({"type":"subscribe","topic":"chat:1","offset":3})", "'epoch'"},
      {"epoch without offset", R"({"type":"subscribe","topic":"chat:1","epoch":"ab"})", "'offset'"},
      {"negative offset", R"({"type":"subscribe","topic":"chat:1","offset":-1,"epoch":"ab"})", "'offset'"},
      {"fractional offset", R"({"type":"subscribe","topic":"chat:1","offset":1.5,"epoch":"ab"})", "'offset'"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    try {
      parse_request(parse_frame(c.text));
      ADD_FAILURE() << "accepted";
    } catch (const ApiError& e) {
      EXPECT_EQ(e.code(), ErrorCode::bad_request);
      EXPECT_NE(std::string(e.what()).find(c.message_part), std::string::npos) << e.what();
    }
  }
}

TEST(WsProtocol, ParsesEveryRequestType) {
  auto auth = parse_request(parse_frame(R"({"type":"authenticate","token":"t0k"})"));
  EXPECT_EQ(auth.kind, ClientRequest::Kind::authenticate);
  EXPECT_EQ(auth.token, "t0k");

  auto sub = parse_request(parse_frame(R"({"type":"subscribe","topic":"chat:7f3a-b_c.d"})"));
  EXPECT_EQ(sub.kind, ClientRequest::Kind::subscribe);
  EXPECT_EQ(sub.topic, "chat:7f3a-b_c.d");
  EXPECT_FALSE(sub.since);

  auto resub = parse_request(parse_frame(R"({"type":"subscribe","topic":"user:5","offset":12,"epoch":"e1"})"));
  ASSERT_TRUE(resub.since);
  EXPECT_EQ(resub.since->offset, 12u);
  EXPECT_EQ(resub.since->epoch, "e1");

  EXPECT_EQ(parse_request(parse_frame(R"({"type":"unsubscribe","topic":"room:1"})")).kind,
            ClientRequest::Kind::unsubscribe);
  EXPECT_EQ(parse_request(parse_frame(R"({"type":"ping"})")).kind, ClientRequest::Kind::ping);
}

TEST(WsProtocol, RequestIdIsAStringOrAnIntegerAndIsEchoed) {
  EXPECT_EQ(request_id(parse_frame(R"({"type":"ping","id":"a-1"})")), "a-1");
  EXPECT_EQ(request_id(parse_frame(R"({"type":"ping","id":42})")), 42);
  EXPECT_TRUE(request_id(parse_frame(R"({"type":"ping"})")).is_null());
  EXPECT_THROW(request_id(parse_frame(R"({"type":"ping","id":{"x":1}})")), ApiError);
  EXPECT_THROW(request_id(parse_frame(R"({"type":"ping","id":1.5})")), ApiError);

  auto pong = json::parse(reply_frame("pong", json::object(), 42));
  EXPECT_EQ(pong, (json{{"type", "pong"}, {"id", 42}}));
  EXPECT_FALSE(json::parse(reply_frame("pong", json::object(), nullptr)).contains("id"));
}

TEST(WsProtocol, ErrorFrameMirrorsTheRestErrorBody) {
  auto e = json::parse(error_frame(ApiError(ErrorCode::forbidden, "Not allowed to subscribe to chat:1"), "r1"));
  EXPECT_EQ(e, (json{{"type", "error"},
                     {"code", 403},
                     {"error", "Forbidden"},
                     {"message", "Not allowed to subscribe to chat:1"},
                     {"id", "r1"}}));
  auto limited = json::parse(error_frame(ApiError(ErrorCode::rate_limited, "slow down").with_retry_after(3), nullptr));
  EXPECT_EQ(limited.at("code"), 429);
  EXPECT_EQ(limited.at("retry_after"), 3);
  EXPECT_FALSE(limited.contains("id"));
}

TEST(WsProtocol, EventFrameCarriesTopicOffsetAndEpoch) {
  auto ev = json::parse(event_frame("chat:1", "message.new", R"({"text":"hi \"you\""})", "2025-09-26T01:00:00Z", 17, "ab12"));
  EXPECT_EQ(ev, (json{{"type", "message.new"},
                      {"topic", "chat:1"},
                      {"data", {{"text", "hi \"you\""}}},
                      {"ts", "2025-09-26T01:00:00Z"},
                      {"offset", 17},
                      {"epoch", "ab12"}}));
}

TEST(WsProtocol, InvalidUtf8IsReplacedNotThrown) {
  const std::string bad = "\xff\xfe";
  EXPECT_NO_THROW(dump(json{{"text", bad}}));
}

}  // namespace
}  // namespace reelhub::ws
