#include "routes.hpp"

#include <algorithm>
#include <filesystem>
#include <limits>
#include <memory>

#include "accounts.hpp"
#include "dto.hpp"
#include "modules/kit/context.hpp"
#include "modules/kit/ids.hpp"
#include "modules/kit/media_delivery.hpp"
#include "reelhub/core/error.hpp"
#include "reelhub/core/validation.hpp"
#include "reelhub/http/multipart.hpp"
#include "service.hpp"

namespace reelhub::users {
namespace {

using http::Request;
using http::Response;


/// The users endpoints, sharing one service.
class Handlers {
 public:
  Handlers(UsersService& service, const modules::MediaDelivery& delivery, std::size_t avatar_limit)
      : service_(service), delivery_(delivery), avatar_limit_(avatar_limit) {}

  Response get_profile(Request& req);
  Response update_profile(Request& req);
  Response get_one(Request& req);
  Response search(Request& req);
  Response block(Request& req);
  Response unblock(Request& req);
  Response blocked(Request& req);
  Response upload_avatar(Request& req);
  Response get_avatar(Request& req);
  Response subscribe(Request& req);
  Response unsubscribe(Request& req);
  Response subscribers(Request& req);
  Response list(Request& req);

 private:
  UsersService& service_;
  const modules::MediaDelivery& delivery_;
  std::size_t avatar_limit_;
};

}  // namespace

void register_routes(const modules::Context& ctx, UsersService& service, const modules::MediaDelivery& delivery) {
  auto bind = http::bind_members(std::make_shared<Handlers>(service, delivery, ctx.config.avatar_limit_bytes));
  using http::Access;
  const http::RouteOptions anyone{};
  const http::RouteOptions user{.access = Access::user};
  const http::RouteOptions admin{.access = Access::user, .min_role = auth::Role::admin};
  const http::RouteOptions upload{.access = Access::user, .rate_policy = "upload",
                                  .body_limit = ctx.config.avatar_limit_bytes + http::kMultipartFraming};
  const http::RouteOptions media{.rate_policy = "", .public_media = true};

  http::Router& r = ctx.router;
  r.add("GET", "/users/profile", bind(&Handlers::get_profile), user);
  r.add("PATCH", "/users/profile", bind(&Handlers::update_profile), user);
  r.add("GET", "/users/search", bind(&Handlers::search), user);
  r.add("POST", "/users/block", bind(&Handlers::block), user);
  r.add("POST", "/users/unblock", bind(&Handlers::unblock), user);
  r.add("GET", "/users/blocked", bind(&Handlers::blocked), user);
  r.add("POST", "/users/upload-avatar", bind(&Handlers::upload_avatar), upload);
  r.add("GET", "/users", bind(&Handlers::list), admin);
  r.add("GET", "/users/{id}", bind(&Handlers::get_one), {.access = Access::optional_user});
  r.add("GET", "/users/{id}/avatar", bind(&Handlers::get_avatar), media);
  r.add("POST", "/users/{id}/subscribe", bind(&Handlers::subscribe), user);
  r.add("DELETE", "/users/{id}/subscribe", bind(&Handlers::unsubscribe), user);
  r.add("GET", "/users/{id}/subscribers", bind(&Handlers::subscribers), anyone);
}

namespace {

/// The `{id}` of the path. Anything but a positive integer names no user: 404, like an unknown id.
std::int64_t path_user_id(const Request& req) { return modules::require_user_id(req.param("id"), "User not found"); }

/// `user_id` of a JSON body (block, unblock).
std::int64_t body_user_id(const Request& req) {
  const auto body = req.json_body();
  Validator v(body);
  const std::int64_t id = v.required_id("user_id");
  v.throw_if_failed();
  return id;
}

PageRequest page_of(const Request& req) {
  return PageRequest{.limit = http::query_int(req, "limit", 50, 1, 100),
                     .offset = http::query_int(req, "offset", 0, 0, std::numeric_limits<std::int64_t>::max())};
}

/// PostgreSQL text cannot hold NUL, and display names are single lines.
bool has_control_characters(const std::string& s, bool allow_line_breaks) {
  return std::any_of(s.begin(), s.end(), [&](char c) {
    const auto u = static_cast<unsigned char>(c);
    if (allow_line_breaks && (c == '\n' || c == '\r' || c == '\t')) return false;
    return u < 0x20 || u == 0x7f;
  });
}

Response Handlers::get_profile(Request& req) {
  return Response::json(200, profile_json(service_.own_profile(req.auth())));
}

Response Handlers::update_profile(Request& req) {
  const auto body = req.json_body();
  Validator v(body);
  const ProfileChanges changes{.username = v.optional_string("username", 3, 32),
                               .display_name = v.optional_string("display_name", 0, 64),
                               .bio = v.optional_string("bio", 0, 500)};
  if (changes.username && !is_valid_username(*changes.username)) {
    v.fail("username", "may contain only letters, digits, '_', '.' and '-'");
  }
  if (changes.display_name && has_control_characters(*changes.display_name, false)) {
    v.fail("display_name", "must not contain control characters");
  }
  if (changes.bio && has_control_characters(*changes.bio, true)) {
    v.fail("bio", "must not contain control characters other than line breaks and tabs");
  }
  v.throw_if_failed();
  return Response::json(200, profile_json(service_.update_profile(req.auth(), changes)));
}

Response Handlers::get_one(Request& req) {
  return Response::json(200, profile_json(service_.public_profile(path_user_id(req))));
}

Response Handlers::search(Request& req) {
  const std::string text = req.query_param("q").value_or("");
  if (text.empty() || !is_valid_utf8(text) || utf8_length(text) > 64 ||
      has_control_characters(text, false)) {
    throw ApiError(ErrorCode::validation_failed, "Invalid search query",
                   {{"q", {"must be 1 to 64 characters of text"}}});
  }
  const PageRequest page = page_of(req);
  return Response::json(200, page_json("users", service_.search(req.auth(), text, page), page));
}

Response Handlers::block(Request& req) {
  const std::int64_t user_id = body_user_id(req);
  service_.block(req.auth(), user_id);
  return Response::json(200, {{"message", "User blocked"}, {"user_id", user_id}});
}

Response Handlers::unblock(Request& req) {
  const std::int64_t user_id = body_user_id(req);
  service_.unblock(req.auth(), user_id);
  return Response::json(200, {{"message", "User unblocked"}, {"user_id", user_id}});
}

Response Handlers::blocked(Request& req) {
  return Response::json(200, {{"users", profiles_json(service_.blocked(req.auth()))}});
}

Response Handlers::upload_avatar(Request& req) {
  const std::string boundary = http::multipart_boundary(req.header("Content-Type"));
  const std::vector<http::FormPart> parts = http::parse_multipart(req.body, boundary);
  const http::FormPart* file = http::find_part(parts, {"file", "avatar"});
  if (file == nullptr) {
    throw ApiError(ErrorCode::validation_failed, "No avatar file in the form", {{"file", {"is required"}}});
  }
  if (file->data.size() > avatar_limit_) {
    throw ApiError(ErrorCode::payload_too_large,
                   "Avatar is larger than the limit of " + std::to_string(avatar_limit_) + " bytes");
  }
  return Response::json(200, {{"avatar_url", service_.upload_avatar(req.auth(), file->data)}});
}

Response Handlers::get_avatar(Request& req) {
  return delivery_.serve(req, UsersService::avatar_key(path_user_id(req)), "image/jpeg", "public, max-age=86400");
}

Response Handlers::subscribe(Request& req) {
  return Response::json(200, subscription_json("Subscribed", service_.subscribe(req.auth(), path_user_id(req))));
}

Response Handlers::unsubscribe(Request& req) {
  return Response::json(200, subscription_json("Unsubscribed", service_.unsubscribe(req.auth(), path_user_id(req))));
}

Response Handlers::subscribers(Request& req) {
  const std::int64_t channel_id = path_user_id(req);
  const PageRequest page = page_of(req);
  return Response::json(200, page_json("subscribers", service_.subscribers(channel_id, page), page));
}

Response Handlers::list(Request& req) {
  const PageRequest page = page_of(req);
  return Response::json(200, page_json("users", service_.list_all(req.auth(), page), page));
}

}  // namespace
}  // namespace reelhub::users
