#include "routes.hpp"

#include <filesystem>
#include <limits>
#include <memory>
#include <system_error>

#include "dto.hpp"
#include "modules/kit/context.hpp"
#include "modules/kit/media_delivery.hpp"
#include "reelhub/core/error.hpp"
#include "reelhub/core/random.hpp"
#include "reelhub/core/validation.hpp"
#include "reelhub/http/multipart.hpp"
#include "service.hpp"

namespace reelhub::videos {
namespace {

namespace fs = std::filesystem;
using http::Request;
using http::Response;

/// A playlist of a ready video never changes; a short lifetime still lets a re-upload show soon.
constexpr const char* kPlaylistCache = "public, max-age=300";
constexpr const char* kSegmentCache = "public, max-age=31536000, immutable";
constexpr const char* kImageCache = "public, max-age=86400";

/// A file removed on scope exit unless something moved it away first.
struct TempFile {
  fs::path path;
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  explicit TempFile(fs::path p) : path(std::move(p)) {}
  ~TempFile() {
    std::error_code ignored;
    fs::remove(path, ignored);
  }
};

std::optional<auth::AuthUser> caller_of(const Request& req) { return req.user; }

/// The videos and HLS endpoints, sharing one service.
class Handlers {
 public:
  Handlers(VideoService& service, const modules::MediaDelivery& delivery, fs::path tmp_dir)
      : service_(service), delivery_(delivery), tmp_dir_(std::move(tmp_dir)) {}

  Response upload(Request& req);
  Response get(Request& req);
  Response remove(Request& req);
  Response feed(Request& req);
  Response like(Request& req);
  Response unlike(Request& req);
  Response comments(Request& req);
  Response add_comment(Request& req);
  Response delete_comment(Request& req);
  Response view(Request& req);
  Response status(Request& req);
  Response master(Request& req);
  Response best_playlist(Request& req);
  Response thumbnail(Request& req);
  Response preview(Request& req);
  Response variant_file(Request& req);

 private:
  VideoService& service_;
  const modules::MediaDelivery& delivery_;
  fs::path tmp_dir_;
};

}  // namespace

void register_routes(const modules::Context& ctx, VideoService& service, const modules::MediaDelivery& delivery) {
  auto bind = http::bind_members(std::make_shared<Handlers>(service, delivery, ctx.media_root / "tmp"));
  using http::Access;
  const http::RouteOptions user{.access = Access::user};
  const http::RouteOptions anyone{.access = Access::optional_user};
  const http::RouteOptions upload{.access = Access::user,
                                  .rate_policy = "upload",
                                  .body_limit = ctx.config.upload_max_bytes + http::kMultipartFraming,
                                  .body_to_file = true};
  // Players poll playlists and fetch segments: no per-request limit, CORS `*`, and local file
  // serving (a stat and a read) needs no database, so it stays off the worker pool; object
  // storage is asked over the network, so then it runs there.
  const http::RouteOptions media{.rate_policy = "", .blocking = delivery.blocking(), .public_media = true};
  // A player anywhere may poll a ready video's status; what a processing or failed one shows
  // depends on who asks, so the token is read when there is one.
  const http::RouteOptions media_status{.access = Access::optional_user, .rate_policy = "", .public_media = true};

  http::Router& r = ctx.router;
  r.add("POST", "/videos/upload", bind(&Handlers::upload), upload);
  r.add("GET", "/videos/feed", bind(&Handlers::feed), anyone);
  r.add("GET", "/videos/{id}", bind(&Handlers::get), anyone);
  r.add("DELETE", "/videos/{id}", bind(&Handlers::remove), user);
  r.add("POST", "/videos/{id}/like", bind(&Handlers::like), user);
  r.add("POST", "/videos/{id}/unlike", bind(&Handlers::unlike), user);
  r.add("GET", "/videos/{id}/comments", bind(&Handlers::comments), anyone);
  r.add("POST", "/videos/{id}/comments", bind(&Handlers::add_comment), user);
  r.add("DELETE", "/videos/{id}/comments/{comment_id}", bind(&Handlers::delete_comment), user);
  r.add("POST", "/videos/{id}/view", bind(&Handlers::view), anyone);
  // Literal file names (which the router prefers over the live module's /hls/{stream_id}/{segment})
  // and a three-segment pattern for rendition files, which no live path has.
  r.add("GET", "/hls/{id}/status", bind(&Handlers::status), media_status);
  r.add("GET", "/hls/{id}/master.m3u8", bind(&Handlers::master), media);
  r.add("GET", "/hls/{id}/playlist.m3u8", bind(&Handlers::best_playlist), media);
  r.add("GET", "/hls/{id}/thumbnail.jpg", bind(&Handlers::thumbnail), media);
  r.add("GET", "/hls/{id}/preview.mp4", bind(&Handlers::preview), media);
  r.add("GET", "/hls/{id}/{variant}/{segment}", bind(&Handlers::variant_file), media);
}

namespace {

Response Handlers::upload(Request& req) {
  const std::string boundary = http::multipart_boundary(req.header("Content-Type"));
  fs::create_directories(tmp_dir_);
  // Beside the upload in <media_root>/tmp, so the service can rename it into place.
  std::string name = "video-";
  name += random_hex(16);
  const TempFile source(tmp_dir_ / name);
  const http::StreamedForm form = http::parse_multipart_file(req.body_file, boundary, "file", source.path);
  if (!form.file || form.file->size == 0) {
    throw ApiError(ErrorCode::validation_failed, "No video file in the form", {{"file", {"is required"}}});
  }
  auto field = [&](const char* key) {
    const auto it = form.fields.find(key);
    return it == form.fields.end() ? std::string() : it->second;
  };
  const NewVideo video{.title = field("title"), .description = field("description"), .source = source.path};
  return Response::json(202, video_json(service_.upload(req.auth(), video)));
}

Response Handlers::get(Request& req) { return Response::json(200, video_json(service_.get(caller_of(req), req.param("id")))); }

Response Handlers::remove(Request& req) {
  service_.remove(req.auth(), req.param("id"));
  return Response::no_content();
}

Response Handlers::feed(Request& req) {
  const auto limit = http::query_int(req, "limit", 50, 1, 100);
  return Response::json(200, video_page_json(service_.feed(caller_of(req), req.query_param("cursor"), limit)));
}

Response Handlers::like(Request& req) { return Response::json(200, like_json(service_.like(req.auth(), req.param("id")))); }

Response Handlers::unlike(Request& req) {
  return Response::json(200, like_json(service_.unlike(req.auth(), req.param("id"))));
}

Response Handlers::comments(Request& req) {
  const auto limit = http::query_int(req, "limit", 50, 1, 100);
  return Response::json(200, comment_page_json(service_.comments(req.param("id"), req.query_param("cursor"), limit)));
}

Response Handlers::add_comment(Request& req) {
  const auto body = req.json_body();
  Validator v(body);
  // Length, blankness and characters are the service's rules; here only the type.
  const std::string text = v.required_string("text", 0, std::numeric_limits<std::size_t>::max());
  v.throw_if_failed();
  return Response::json(201, comment_json(service_.add_comment(req.auth(), req.param("id"), text)));
}

Response Handlers::delete_comment(Request& req) {
  service_.delete_comment(req.auth(), req.param("id"), req.param("comment_id"));
  return Response::no_content();
}

Response Handlers::view(Request& req) {
  return Response::json(200, view_json(service_.view(caller_of(req), req.remote_ip, req.param("id"))));
}

Response Handlers::status(Request& req) {
  Response res = Response::json(200, status_json(service_.status(caller_of(req), req.param("id"))));
  // The answer depends on the token and on time: no cache may keep it or hand it to another client.
  res.headers["Cache-Control"] = "private, no-store";
  res.headers["Vary"] = "Authorization";
  return res;
}

Response Handlers::master(Request& req) {
  return delivery_.serve(req, service_.hls_key(req.param("id"), HlsFile::master), "application/vnd.apple.mpegurl",
                         kPlaylistCache);
}

Response Handlers::best_playlist(Request& req) {
  return delivery_.serve(req, service_.hls_key(req.param("id"), HlsFile::best_playlist),
                         "application/vnd.apple.mpegurl", kPlaylistCache);
}

Response Handlers::thumbnail(Request& req) {
  return delivery_.serve(req, service_.hls_key(req.param("id"), HlsFile::thumbnail), "image/jpeg", kImageCache);
}

Response Handlers::preview(Request& req) {
  return delivery_.serve(req, service_.hls_key(req.param("id"), HlsFile::preview), "video/mp4", kImageCache);
}

Response Handlers::variant_file(Request& req) {
  const std::string& name = req.param("segment");
  const std::string key = service_.hls_key(req.param("id"), HlsFile::in_variant, req.param("variant"), name);
  if (name == "index.m3u8") return delivery_.serve(req, key, "application/vnd.apple.mpegurl", kPlaylistCache);
  return delivery_.serve(req, key, "video/mp2t", kSegmentCache);
}

}  // namespace
}  // namespace reelhub::videos
