#include "reelhub/ws/protocol.hpp"

#include <cctype>
#include <cmath>

namespace reelhub::ws {
namespace {

bool valid_family(const std::string& s) {
  if (s.empty() || s.size() > 32 || !std::islower(static_cast<unsigned char>(s[0]))) return false;
  for (unsigned char c : s)
    if (!std::islower(c) && !std::isdigit(c) && c != '_') return false;
  return true;
}

bool valid_id(const std::string& s) {
  if (s.empty() || s.size() > 128) return false;
  for (unsigned char c : s)
    if (!std::isalnum(c) && c != '_' && c != '-' && c != '.') return false;
  return true;
}

/// Seed 002's client reads a stream event's fields at the top level of the frame (data.stream_id,
/// data.status, data.count): ",<key>:<value>..." for each field of the event's data that is not
/// named like a field of the envelope itself.
std::string top_level_fields(const std::string& data_json) {
  const auto data = nlohmann::json::parse(data_json, nullptr, false);
  std::string out;
  if (!data.is_object()) return out;
  for (const auto& [key, value] : data.items()) {
    if (key == "type" || key == "topic" || key == "data" || key == "ts" || key == "offset" || key == "epoch") continue;
    out += "," + dump(key) + ":" + dump(value);
  }
  return out;
}

ApiError bad(std::string message) { return ApiError(ErrorCode::bad_request, std::move(message)); }

const std::string& string_field(const nlohmann::json& frame, const char* name) {
  auto it = frame.find(name);
  if (it == frame.end() || !it->is_string() || it->get_ref<const std::string&>().empty())
    throw bad(std::string("'") + name + "' must be a non-empty string");
  return it->get_ref<const std::string&>();
}

}  // namespace

std::string dump(const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }

TopicName parse_topic(const std::string& topic) {
  const auto colon = topic.find(':');
  if (colon == std::string::npos) throw bad("Topic must look like <family>:<id>");
  TopicName name{topic.substr(0, colon), topic.substr(colon + 1)};
  if (!valid_family(name.family) || !valid_id(name.id)) throw bad("Topic must look like <family>:<id>");
  return name;
}

nlohmann::json parse_frame(std::string_view text) {
  auto frame = nlohmann::json::parse(text, nullptr, false);
  if (frame.is_discarded()) throw bad("Malformed JSON");
  if (!frame.is_object()) throw bad("A message must be a JSON object");
  return frame;
}

nlohmann::json request_id(const nlohmann::json& frame) {
  auto it = frame.find("id");
  if (it == frame.end() || it->is_null()) return nullptr;
  if (!it->is_string() && !it->is_number_integer()) throw bad("'id' must be a string or an integer");
  if (it->is_string() && it->get_ref<const std::string&>().size() > 64) throw bad("'id' is longer than 64 characters");
  return *it;
}

bool is_protocol_type(const std::string& type) {
  return type == "authenticate" || type == "subscribe" || type == "unsubscribe" || type == "ping" ||
         type == "time.sync";
}

ClientRequest parse_request(const nlohmann::json& frame, const std::function<bool(const std::string&)>& is_module_type) {
  auto type = frame.find("type");
  if (type == frame.end() || !type->is_string()) throw bad("'type' must be a string");
  const auto& t = type->get_ref<const std::string&>();
  ClientRequest req;
  if (t == "authenticate") {
    req.kind = ClientRequest::Kind::authenticate;
    req.token = string_field(frame, "token");
  } else if (t == "subscribe" || t == "unsubscribe") {
    req.kind = t == "subscribe" ? ClientRequest::Kind::subscribe : ClientRequest::Kind::unsubscribe;
    req.topic = string_field(frame, "topic");
    parse_topic(req.topic);
    const bool has_offset = frame.contains("offset"), has_epoch = frame.contains("epoch");
    if (req.kind == ClientRequest::Kind::subscribe && (has_offset || has_epoch)) {
      auto offset = frame.find("offset");
      if (offset == frame.end() || !offset->is_number_unsigned()) throw bad("'offset' must be a non-negative integer");
      req.since = StreamPosition{offset->get<std::uint64_t>(), string_field(frame, "epoch")};
    }
  } else if (t == "ping") {
    req.kind = ClientRequest::Kind::ping;
  } else if (t == "time.sync") {
    req.kind = ClientRequest::Kind::time_sync;
    auto t0 = frame.find("t0");
    if (t0 == frame.end() || !t0->is_number() || !std::isfinite(t0->get<double>()))
      throw bad("'t0' must be a number: the client's clock in milliseconds since the Unix epoch");
    req.t0 = t0->get<double>();
  } else if (is_module_type && is_module_type(t)) {
    req.kind = ClientRequest::Kind::module;
    req.type = t;
  } else {
    throw bad("Unknown message type '" + t.substr(0, 64) + "'");
  }
  return req;
}

std::string reply_frame(const std::string& type, nlohmann::json fields, const nlohmann::json& id) {
  fields["type"] = type;
  if (!id.is_null()) fields["id"] = id;
  return dump(fields);
}

double epoch_millis(std::chrono::system_clock::time_point t) {
  return static_cast<double>(std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count()) /
         1000.0;
}

std::string time_sync_frame(double t0, double t1, double t2, const nlohmann::json& id) {
  return reply_frame("time.sync", {{"t0", t0}, {"t1", t1}, {"t2", t2}}, id);
}

std::string error_frame(const ApiError& e, const nlohmann::json& id) {
  nlohmann::json body = {{"code", http_status(e.code())}, {"error", error_title(e.code())}, {"message", e.what()}};
  if (e.retry_after() > 0) body["retry_after"] = e.retry_after();
  return reply_frame("error", std::move(body), id);
}

std::string event_frame(const std::string& topic, const std::string& type, const std::string& data_json,
                        const std::string& ts, std::uint64_t offset, const std::string& epoch) {
  // Spliced by hand: the data is serialized once per event, not once per instance of this frame.
  std::string out = "{\"type\":" + dump(type) + ",\"topic\":" + dump(topic) + ",\"data\":";
  out += data_json;
  if (topic.starts_with("stream:")) out += top_level_fields(data_json);
  out += ",\"ts\":" + dump(ts) + ",\"offset\":" + std::to_string(offset) + ",\"epoch\":" + dump(epoch) + "}";
  return out;
}

}  // namespace reelhub::ws
