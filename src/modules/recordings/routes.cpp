#include "routes.hpp"

#include <limits>
#include <memory>

#include "dto.hpp"
#include "modules/kit/context.hpp"
#include "modules/kit/media_delivery.hpp"
#include "service.hpp"

namespace reelhub::recordings {
namespace {

using http::Request;
using http::Response;

// A recording never changes once ready; a deleted one answers 404 when the cache asks again.
constexpr const char* kMediaCacheControl = "public, max-age=3600";

/// The recordings endpoints, sharing one service.
class Handlers {
 public:
  Handlers(RecordingService& service, const modules::MediaDelivery& delivery) : service_(service), delivery_(delivery) {}

  Response list(Request& req);
  Response get_one(Request& req);
  Response video(Request& req);
  Response thumbnail(Request& req);
  Response delete_one(Request& req);

 private:
  RecordingService& service_;
  const modules::MediaDelivery& delivery_;
};

}  // namespace

void register_routes(const modules::Context& ctx, RecordingService& service, const modules::MediaDelivery& delivery) {
  auto bind = http::bind_members(std::make_shared<Handlers>(service, delivery));
  using http::Access;
  const http::RouteOptions anyone{.access = Access::optional_user};
  const http::RouteOptions user{.access = Access::user};
  // Players fetch these from any site and seek with Range requests: CORS `*`, no request budget.
  const http::RouteOptions media{.rate_policy = "", .public_media = true};

  http::Router& r = ctx.router;
  r.add("GET", "/api/v1/recordings", bind(&Handlers::list), anyone);
  r.add("GET", "/api/v1/recordings/{stream_id}", bind(&Handlers::get_one), anyone);
  r.add("GET", "/api/v1/recordings/{stream_id}/video", bind(&Handlers::video), media);
  r.add("GET", "/api/v1/recordings/{stream_id}/thumbnail", bind(&Handlers::thumbnail), media);
  r.add("DELETE", "/api/v1/recordings/{stream_id}", bind(&Handlers::delete_one), user);
}

namespace {

Response Handlers::list(Request& req) {
  RecordingFilter filter{.status = req.query_param("status"),
                         .limit = http::query_int(req, "limit", 50, 1, 100),
                         .offset = http::query_int(req, "offset", 0, 0, std::numeric_limits<std::int32_t>::max())};
  if (req.query_param("user_id")) {
    filter.user_id = http::query_int(req, "user_id", 0, 1, std::numeric_limits<std::int64_t>::max());
  }
  return Response::json(200, recording_page_json(service_.list(filter)));
}

Response Handlers::get_one(Request& req) {
  return Response::json(200, recording_json(service_.get(req.param("stream_id"))));
}

Response Handlers::video(Request& req) {
  return delivery_.serve(req, service_.video_key(req.param("stream_id")), "video/mp4", kMediaCacheControl);
}

Response Handlers::thumbnail(Request& req) {
  return delivery_.serve(req, service_.thumbnail_key(req.param("stream_id")), "image/jpeg", kMediaCacheControl);
}

Response Handlers::delete_one(Request& req) {
  const std::string stream_id = service_.remove(req.auth(), req.param("stream_id"));
  return Response::json(200, {{"message", "Recording deleted successfully"}, {"stream_id", stream_id}});
}

}  // namespace
}  // namespace reelhub::recordings
