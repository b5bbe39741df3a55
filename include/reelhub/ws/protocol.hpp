#pragma once
// The JSON protocol of GET /ws, free of sockets: parsing client requests, validating topic names,
// and building every frame the server sends. docs/openapi.yaml (x-websocket) describes it.
//
// Client -> server: {"type": "authenticate"|"subscribe"|"unsubscribe"|"ping"|"time.sync"|<a module's type>,
// "id"?: string|number, ...}; module types (room control, room chat) are answered by the module that
// registered them (Hub::register_request).
// Server -> client: replies echo "id"; events are {"type","topic","data","ts","offset","epoch"};
// errors are {"type":"error","code":<HTTP-like status>,"error":<title>,"message":...,"id"?}.

#include <chrono>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "reelhub/core/error.hpp"
#include "reelhub/ws/hub.hpp"

namespace reelhub::ws {

/// Close codes the server uses (RFC 6455 section 7.4 plus application codes 4xxx).
enum class CloseCode : std::uint16_t {
  going_away = 1001,        // server shutting down (SIGTERM drain)
  unsupported_data = 1003,  // a binary frame: the protocol is JSON text only
  policy_violation = 1008,  // the outgoing queue overflowed (slow consumer)
  too_big = 1009,           // a client message over ws_max_message_bytes
  unauthorized = 4401,      // bad token, no authenticate in time, or a request before it
  ping_timeout = 4408,      // ws_max_missed_pongs pings went unanswered
};

/// "<family>:<id>" split apart.
struct TopicName {
  std::string family;
  std::string id;
};

/// Parses a topic: family [a-z][a-z0-9_]{0,31}, id [A-Za-z0-9_.-]{1,128}. Throws ApiError(bad_request).
TopicName parse_topic(const std::string& topic);

/// One client request after validation.
struct ClientRequest {
  enum class Kind { authenticate, subscribe, unsubscribe, ping, time_sync, module };
  Kind kind = Kind::ping;
  std::string type;                     // module: the message type, for its handler
  double t0 = 0;                        // time_sync: the client's send time, echoed back
  std::string token;                    // authenticate
  std::string topic;                    // subscribe, unsubscribe
  std::optional<StreamPosition> since;  // subscribe with {"offset", "epoch"}: recover from there
};

/// Parses a text frame into a JSON object. Throws ApiError(bad_request) for anything else.
nlohmann::json parse_frame(std::string_view text);
/// The request's "id" (null when absent). Throws ApiError(bad_request) unless a string or integer.
nlohmann::json request_id(const nlohmann::json& frame);
/// True for the types the protocol itself answers (a module cannot register them).
bool is_protocol_type(const std::string& type);
/// Validates the request's type and fields. A type the protocol does not know is a module's when
/// `is_module_type` says so (its fields are the module's to check), else unknown. Throws
/// ApiError(bad_request).
ClientRequest parse_request(const nlohmann::json& frame,
                            const std::function<bool(const std::string&)>& is_module_type = {});

/// The answer to time.sync (NTP-style): the client's `t0` echoed, `t1` when the server read the
/// request and `t2` when it wrote the reply, all in milliseconds since the Unix epoch. With its
/// own receive time t3 the client estimates offset = ((t1 - t0) + (t2 - t3)) / 2.
std::string time_sync_frame(double t0, double t1, double t2, const nlohmann::json& id);
/// Milliseconds since the Unix epoch of `t`, with microseconds as the fraction.
double epoch_millis(std::chrono::system_clock::time_point t);

/// A reply of `type` with `fields`, echoing `id` when it is not null.
std::string reply_frame(const std::string& type, nlohmann::json fields, const nlohmann::json& id);
/// The error frame for `e`, echoing `id` when it is not null.
std::string error_frame(const ApiError& e, const nlohmann::json& id);
/// A topic event; `data_json` is the event's data already serialized. Events of `stream:<id>`
/// topics also carry their data's fields at the top level, for seed 002's client.
std::string event_frame(const std::string& topic, const std::string& type, const std::string& data_json,
                        const std::string& ts, std::uint64_t offset, const std::string& epoch);

/// Serializes JSON for the wire; invalid UTF-8 in strings is replaced instead of throwing.
std::string dump(const nlohmann::json& j);

}  // namespace reelhub::ws
