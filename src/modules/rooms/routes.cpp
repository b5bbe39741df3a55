#include "routes.hpp"

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

 private:
  RoomService& service_;
};

}  // namespace

void register_routes(const modules::Context& ctx, RoomService& service) {
  ctx.hub.register_topic("room", [&service](const auth::AuthUser& user, const std::string& id) {
    return service.may_subscribe(user, id);
  });
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
  return Response::json(200, room_json(service_.join(req.auth(), req.param("id"))));
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
