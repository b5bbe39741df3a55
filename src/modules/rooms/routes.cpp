#include "routes.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

#include "dto.hpp"
#include "modules/kit/context.hpp"
#include "modules/kit/ids.hpp"
#include "reelhub/core/error.hpp"
#include "reelhub/core/validation.hpp"
#include "service.hpp"

namespace reelhub::rooms {
namespace {

using http::Request;
using http::Response;

constexpr std::size_t kMaxId = 64;       // longer than any UUID: the service says what is wrong with it
constexpr std::size_t kMaxSearch = 100;  // bytes of `q`

std::string dump_number(double x) { return nlohmann::json(x).dump(); }

/// The rooms endpoints, sharing one service.
class Handlers {
 public:
  explicit Handlers(RoomService& service) : service_(service) {}

  Response create(Request& req);
  Response list(Request& req);
  Response get_one(Request& req);
  Response delete_one(Request& req);
  Response join(Request& req);
  Response leave(Request& req);
  Response kick(Request& req);
  Response invite(Request& req);
  Response messages(Request& req);

 private:
  RoomService& service_;
};

/// A playback control message's room and change; 422 with the field at fault.
std::pair<std::string, PlaybackControl> parse_control(PlaybackAction action, const nlohmann::json& message) {
  Validator v(message);
  const auto room_id = v.required_string("room_id", 1, kMaxId);
  PlaybackControl control{.action = action, .value = 0};
  const auto number = [&](const char* field, double min, double max) {
    const auto it = message.find(field);
    if (it == message.end() || !it->is_number() || !std::isfinite(it->get<double>()) || it->get<double>() < min ||
        it->get<double>() > max) {
      v.fail(field, "must be a number from " + dump_number(min) + " to " + dump_number(max));
      return 0.0;
    }
    return it->get<double>();
  };
  if (action == PlaybackAction::seek) control.value = number("position", 0, Playback::kMaxPosition);
  if (action == PlaybackAction::rate) control.value = number("rate", Playback::kMinRate, Playback::kMaxRate);
  v.throw_if_failed();
  return {room_id, control};
}

}  // namespace

void register_routes(const modules::Context& ctx, RoomService& service) {
  ctx.hub.register_topic("room", [&service](const auth::AuthUser& user, const std::string& id) {
    return service.may_subscribe(user, id);
  });
  // Playback control over the WebSocket: {"type": "play"|"pause"|"seek"|"rate", "room_id",
  // "position" (seek), "rate" (rate)}, answered with {"room_id", "playback"}.
  for (const PlaybackAction action :
       {PlaybackAction::play, PlaybackAction::pause, PlaybackAction::seek, PlaybackAction::rate}) {
    ctx.hub.register_request(playback_action_name(action), [&service, action](const auth::AuthUser& user,
                                                                             const nlohmann::json& message) {
      const auto [room_id, control] = parse_control(action, message);
      return nlohmann::json{{"room_id", room_id}, {"playback", playback_json(service.control(user, room_id, control))}};
    });
  }
  // Room chat over the WebSocket: "room.message" {room_id, text} -> {room_id, message};
  // "room.message.delete" {room_id, message_id} -> {room_id, message_id};
  // "room.slow_mode" {room_id, seconds} -> {room_id, slow_mode_seconds};
  // "room.control" {room_id, user_id, allowed} -> {room_id, user_id, can_control} (playback control).
  ctx.hub.register_request("room.message", [&service](const auth::AuthUser& user, const nlohmann::json& message) {
    Validator v(message);
    const auto room_id = v.required_string("room_id", 1, kMaxId);
    // Length and characters are the service's rules (in code points); here a bound on bytes.
    const auto text = v.required_string("text", 1, 4 * RoomService::kMaxMessage);
    v.throw_if_failed();
    return nlohmann::json{{"room_id", room_id}, {"message", message_json(service.send_message(user, room_id, text))}};
  });
  ctx.hub.register_request("room.message.delete", [&service](const auth::AuthUser& user, const nlohmann::json& message) {
    Validator v(message);
    const auto room_id = v.required_string("room_id", 1, kMaxId);
    const auto message_id = v.required_string("message_id", 1, kMaxId);
    v.throw_if_failed();
    service.delete_message(user, room_id, message_id);
    return nlohmann::json{{"room_id", room_id}, {"message_id", message_id}};
  });
  ctx.hub.register_request("room.control", [&service](const auth::AuthUser& user, const nlohmann::json& message) {
    Validator v(message);
    const auto room_id = v.required_string("room_id", 1, kMaxId);
    const auto user_id = v.required_id("user_id");
    const auto allowed = message.find("allowed");
    if (allowed == message.end() || !allowed->is_boolean()) v.fail("allowed", "must be true or false");
    v.throw_if_failed();
    service.grant_control(user, room_id, user_id, allowed->get<bool>());
    return nlohmann::json{{"room_id", room_id}, {"user_id", user_id}, {"can_control", allowed->get<bool>()}};
  });
  ctx.hub.register_request("room.slow_mode", [&service](const auth::AuthUser& user, const nlohmann::json& message) {
    Validator v(message);
    const auto room_id = v.required_string("room_id", 1, kMaxId);
    const auto seconds = message.find("seconds");
    if (seconds == message.end() || !seconds->is_number_integer()) v.fail("seconds", "must be an integer");
    v.throw_if_failed();
    const auto value = seconds->get<std::int64_t>();
    const int clamped = static_cast<int>(std::clamp<std::int64_t>(value, -1, RoomService::kMaxSlowMode + 1));
    return nlohmann::json{{"room_id", room_id}, {"slow_mode_seconds", service.set_slow_mode(user, room_id, clamped)}};
  });
  // A socket that closed and stayed away past the grace period counts as leaving.
  ctx.hub.on_departure("room", [&service](std::int64_t user_id, const std::string& id) { service.departed(user_id, id); });
  auto bind = http::bind_members(std::make_shared<Handlers>(service));
  const http::RouteOptions user{.access = http::Access::user};
  const http::RouteOptions anyone{.access = http::Access::optional_user};

  http::Router& r = ctx.router;
  r.add("POST", "/api/rooms", bind(&Handlers::create), user);
  r.add("GET", "/api/rooms", bind(&Handlers::list), anyone);
  r.add("GET", "/api/rooms/{id}", bind(&Handlers::get_one), anyone);
  r.add("DELETE", "/api/rooms/{id}", bind(&Handlers::delete_one), user);
  r.add("POST", "/api/rooms/{id}/join", bind(&Handlers::join), user);
  r.add("POST", "/api/rooms/{id}/leave", bind(&Handlers::leave), user);
  r.add("POST", "/api/rooms/{id}/kick/{user_id}", bind(&Handlers::kick), user);
  r.add("POST", "/api/rooms/{id}/invite", bind(&Handlers::invite), user);
  r.add("GET", "/api/rooms/{id}/messages", bind(&Handlers::messages), user);
}

namespace {

Response Handlers::create(Request& req) {
  const auto body = req.json_body();
  Validator v(body);
  NewRoom room;
  const auto video_id = v.optional_string("video_id", 1, kMaxId);
  const auto recording_id = v.optional_string("recording_id", 1, kMaxId);
  if (video_id.has_value() == recording_id.has_value()) {
    v.fail(video_id ? "recording_id" : "video_id", "give exactly one of video_id and recording_id");
  } else if (recording_id) {
    room.kind = MediaKind::recording;
    room.media_id = *recording_id;
  } else {
    room.media_id = *video_id;
  }
  // Length, blankness and characters are the service's rules; here only the type.
  room.title = v.optional_string("title", 0, std::numeric_limits<std::size_t>::max());
  if (const auto it = body.find("private"); it != body.end() && !it->is_null()) {
    if (it->is_boolean()) room.is_private = it->get<bool>();
    else v.fail("private", "must be true or false");
  }
  v.throw_if_failed();
  return Response::json(201, room_json(service_.create(req.auth(), room)));
}

Response Handlers::list(Request& req) {
  ListRequest list{.search = req.query_param("q"),
                   .cursor = req.query_param("cursor"),
                   .limit = http::query_int(req, "limit", 50, 1, 100)};
  const auto video_id = req.query_param("video_id");
  const auto recording_id = req.query_param("recording_id");
  if (video_id && recording_id) {
    throw ApiError(ErrorCode::validation_failed, "Invalid filter",
                   {{"recording_id", {"give at most one of video_id and recording_id"}}});
  }
  if (video_id || recording_id) {
    list.playing_kind = video_id ? MediaKind::video : MediaKind::recording;
    list.playing_id = video_id ? video_id : recording_id;
  }
  if (list.search && list.search->size() > kMaxSearch) {
    throw ApiError(ErrorCode::validation_failed, "Invalid search",
                   {{"q", {"must be at most " + std::to_string(kMaxSearch) + " bytes"}}});
  }
  return Response::json(200, room_page_json(service_.list(req.user, list)));
}

Response Handlers::get_one(Request& req) { return Response::json(200, room_json(service_.get(req.user, req.param("id")))); }

Response Handlers::delete_one(Request& req) {
  service_.remove(req.auth(), req.param("id"));
  return Response::no_content();
}

Response Handlers::join(Request& req) {
  const Joined joined = service_.join(req.auth(), req.param("id"));
  nlohmann::json out = room_json(joined.room);
  out["messages"] = message_page_json(joined.history);
  return Response::json(200, out);
}

Response Handlers::messages(Request& req) {
  const auto page = service_.history(req.auth(), req.param("id"), req.query_param("cursor"),
                                     http::query_int(req, "limit", RoomService::kHistoryPage, 1, 100));
  return Response::json(200, message_page_json(page));
}

Response Handlers::leave(Request& req) {
  service_.leave(req.auth(), req.param("id"));
  return Response::no_content();
}

Response Handlers::kick(Request& req) {
  const std::int64_t user_id = modules::require_user_id(req.param("user_id"), "User not found");
  service_.kick(req.auth(), req.param("id"), user_id);
  return Response::no_content();
}

Response Handlers::invite(Request& req) {
  const auto body = req.json_body();
  Validator v(body);
  const std::int64_t user_id = v.required_id("user_id");
  v.throw_if_failed();
  const Invited invited = service_.invite(req.auth(), req.param("id"), user_id);
  return Response::json(invited.created ? 201 : 200, invited_json(invited.room_id, invited.user_id));
}

}  // namespace
}  // namespace reelhub::rooms
