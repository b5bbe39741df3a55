// The JSON protocol of GET /ws: request parsing (table-driven) and the frames the server sends.

#include <gtest/gtest.h>

#include <chrono>
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
      {"time.sync without t0", R"({"type":"time.sync"})", "'t0'"},
      {"time.sync with a string t0", R"({"type":"time.sync","t0":"1"})", "'t0'"},
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

TEST(WsProtocol, ModuleTypesAreTheirsOnlyWhenRegistered) {
  const auto known = [](const std::string& type) { return type == "seek"; };
  const auto seek = parse_request(parse_frame(R"({"type":"seek","room_id":"r","position":3})"), known);
  EXPECT_EQ(seek.kind, ClientRequest::Kind::module);
  EXPECT_EQ(seek.type, "seek");
  EXPECT_THROW(parse_request(parse_frame(R"({"type":"seek"})")), ApiError);  // nobody registered it
  EXPECT_THROW(parse_request(parse_frame(R"({"type":"pause"})"), known), ApiError);
  // The protocol's own types stay the protocol's.
  EXPECT_EQ(parse_request(parse_frame(R"({"type":"ping"})"), [](const std::string&) { return true; }).kind,
            ClientRequest::Kind::ping);
  EXPECT_TRUE(is_protocol_type("time.sync"));
  EXPECT_FALSE(is_protocol_type("seek"));
}

TEST(WsProtocol, TimeSyncEchoesT0WithTheServerTimes) {
  const auto request = parse_request(parse_frame(R"({"type":"time.sync","id":4,"t0":1700000000123.5})"));
  EXPECT_EQ(request.kind, ClientRequest::Kind::time_sync);
  EXPECT_EQ(request.t0, 1700000000123.5);
  EXPECT_EQ(json::parse(time_sync_frame(request.t0, 10.25, 11.5, 4)),
            (json{{"type", "time.sync"}, {"id", 4}, {"t0", 1700000000123.5}, {"t1", 10.25}, {"t2", 11.5}}));
  EXPECT_EQ(epoch_millis(std::chrono::system_clock::time_point(std::chrono::microseconds(1500))), 1.5);
}

/// Seed 002's example client, line for line: `switch (data.type)` over the parsed frame, reading
/// data.stream_id, data.status and data.count at its top level. Returns what it would log.
std::string seed_002_client(const std::string& frame) {
  const json data = json::parse(frame);
  const auto field = [&](const char* name) {  // JS: a missing property reads as undefined
    return data.contains(name) ? (data[name].is_string() ? data[name].get<std::string>() : data[name].dump())
                               : std::string("undefined");
  };
  const std::string type = field("type");
  if (type == "stream_status") return "Stream " + field("stream_id") + " status: " + field("status");
  if (type == "viewer_count") return "Stream " + field("stream_id") + " viewers: " + field("count");
  if (type == "recording_ready") return "VOD ready: " + field("stream_id");
  return "";
}

TEST(WsProtocol, Seed002ClientReadsStreamEventsAtTheTopLevel) {
  const std::string id = "5b0e6f0e-8c1a-4c6e-9f55-2f4f0f1b7d10";
  const auto status = event_frame("stream:" + id, "stream_status", R"({"stream_id":")" + id + R"(","status":"live"})",
                                  "2025-09-26T01:00:00Z", 3, "e1");
  EXPECT_EQ(seed_002_client(status), "Stream " + id + " status: live");
  // As the streams module publishes viewer counts: viewer_count and, for this client, count.
  const auto viewers = event_frame("stream:" + id, "viewer_count",
                                   R"({"stream_id":")" + id + R"(","viewer_count":7,"count":7})", "2025-09-26T01:00:00Z",
                                   4, "e1");
  EXPECT_EQ(seed_002_client(viewers), "Stream " + id + " viewers: 7");
  EXPECT_EQ(seed_002_client(event_frame("stream:" + id, "recording_ready", R"({"stream_id":")" + id + R"("})",
                                        "2025-09-26T01:00:00Z", 5, "e1")),
            "VOD ready: " + id);
  // The envelope stays: data, topic, offset; a data field named like an envelope field does not clobber it.
  const auto parsed = json::parse(event_frame("stream:" + id, "stream_status", R"({"status":"ended","type":"x"})",
                                              "2025-09-26T01:00:00Z", 6, "e1"));
  EXPECT_EQ(parsed.at("type"), "stream_status");
  EXPECT_EQ(parsed.at("data").at("type"), "x");
  EXPECT_EQ(parsed.at("status"), "ended");
  EXPECT_EQ(parsed.at("offset"), 6);
  // Other families keep their data inside the envelope only.
  EXPECT_FALSE(json::parse(event_frame("chat:1", "message.new", R"({"text":"hi"})", "t", 1, "e")).contains("text"));
}

}  // namespace
}  // namespace reelhub::ws
