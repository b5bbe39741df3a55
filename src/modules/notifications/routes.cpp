#include "routes.hpp"

#include "dto.hpp"
#include "modules/kit/context.hpp"
#include "reelhub/core/error.hpp"
#include "reelhub/core/validation.hpp"
#include "service.hpp"

namespace reelhub::notifications {
namespace {

using http::Request;
using http::Response;

/// Device tokens of APNs and FCM are far shorter; this only bounds what we store.
constexpr std::size_t kMaxPushToken = 4096;

/// The notifications endpoints, sharing the process's one service.
class Handlers {
 public:
  explicit Handlers(NotificationService& service) : service_(service) {}

  Response list(Request& req);
  Response read_one(Request& req);
  Response read_all(Request& req);
  Response get_settings(Request& req);
  Response update_settings(Request& req);
  Response push_token(Request& req);

 private:
  NotificationService& service_;
};

}  // namespace

void register_routes(const modules::Context& ctx, NotificationService& service) {
  auto bind = http::bind_members(std::make_shared<Handlers>(service));
  const http::RouteOptions user{.access = http::Access::user};

  http::Router& r = ctx.router;
  r.add("GET", "/notifications", bind(&Handlers::list), user);
  r.add("POST", "/notifications/read-all", bind(&Handlers::read_all), user);
  r.add("GET", "/notifications/settings", bind(&Handlers::get_settings), user);
  r.add("PUT", "/notifications/settings", bind(&Handlers::update_settings), user);
  r.add("POST", "/notifications/push-token", bind(&Handlers::push_token), user);
  r.add("POST", "/notifications/{id}/read", bind(&Handlers::read_one), user);
}

namespace {

/// `unread_only=true|false|1|0`, false when absent.
bool unread_only_of(const Request& req) {
  const auto value = req.query_param("unread_only");
  if (!value || *value == "false" || *value == "0") return false;
  if (*value == "true" || *value == "1") return true;
  throw ApiError(ErrorCode::validation_failed, "Invalid query parameter",
                 {{"unread_only", {"must be true or false"}}});
}

Response Handlers::list(Request& req) {
  const PageRequest page{.cursor = req.query_param("cursor"),
                         .limit = http::query_int(req, "limit", 50, 1, 100),
                         .unread_only = unread_only_of(req)};
  return Response::json(200, page_json(service_.list(req.auth(), page)));
}

Response Handlers::read_one(Request& req) {
  return Response::json(200, notification_json(service_.mark_read(req.auth(), req.param("id"))));
}

Response Handlers::read_all(Request& req) {
  const std::int64_t updated = service_.mark_all_read(req.auth());
  return Response::json(200, {{"message", "All notifications marked as read"}, {"updated", updated}});
}

Response Handlers::get_settings(Request& req) {
  return Response::json(200, settings_json(service_.settings(req.auth())));
}

Response Handlers::update_settings(Request& req) {
  const auto body = req.json_body();
  Settings changes;
  FieldErrors errors;
  for (const auto& [key, value] : body.items()) {
    const auto type = parse_type(key);
    if (!type) errors[key].push_back("is not a notification type");
    else if (!value.is_boolean()) errors[key].push_back("must be true or false");
    else changes[*type] = value.get<bool>();
  }
  if (!errors.empty()) throw ApiError(ErrorCode::validation_failed, "Invalid notification settings", errors);
  return Response::json(200, settings_json(service_.update_settings(req.auth(), changes)));
}

Response Handlers::push_token(Request& req) {
  const auto body = req.json_body();
  Validator v(body);
  const std::string token = v.required_string("token", 1, kMaxPushToken);
  const std::string platform_text = v.required_string("platform", 1, 16);
  const auto platform = parse_platform(platform_text);
  if (!platform_text.empty() && !platform) v.fail("platform", "must be one of: ios, android, web");
  v.throw_if_failed();
  const bool created = service_.register_push_token(req.auth(), token, *platform);
  return Response::json(created ? 201 : 200,
                        {{"message", "Push token registered"}, {"platform", platform_name(*platform)}});
}

}  // namespace
}  // namespace reelhub::notifications
