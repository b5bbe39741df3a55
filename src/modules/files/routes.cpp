#include "routes.hpp"

#include <memory>

#include "dto.hpp"
#include "modules/kit/context.hpp"
#include "reelhub/http/multipart.hpp"
#include "reelhub/storage/local_store.hpp"
#include "service.hpp"

namespace reelhub::files {
namespace {

using http::Request;
using http::Response;


/// The files endpoints, sharing one service. Every answer, errors included, has seed 001's shape.
class Handlers {
 public:
  explicit Handlers(FileService& service) : service_(service) {}

  Response upload(Request& req) { return seed_errors([&] { return do_upload(req); }); }
  Response list(Request& req) { return seed_errors([&] { return do_list(req); }); }
  Response info(Request& req) { return seed_errors([&] { return do_info(req); }); }
  Response download(Request& req) { return seed_errors([&] { return do_download(req); }); }
  Response remove(Request& req) { return seed_errors([&] { return do_remove(req); }); }

 private:
  template <class Fn>
  Response seed_errors(Fn&& fn) {
    try {
      return fn();
    } catch (const ApiError& e) {
      return seed_error_response(e, service_.max_bytes());
    }
  }

  Response do_upload(Request& req);
  Response do_list(Request& req);
  Response do_info(Request& req);
  Response do_download(Request& req);
  Response do_remove(Request& req);

  FileService& service_;
};

/// GET /storage/objects/{key}?expires=&signature=
class PresignedHandler {
 public:
  explicit PresignedHandler(const storage::LocalStore& store) : store_(store) {}
  Response get(Request& req);

 private:
  const storage::LocalStore& store_;
};

}  // namespace

void register_routes(const modules::Context& ctx, FileService& service) {
  auto bind = http::bind_members(std::make_shared<Handlers>(service));
  using http::Access;
  const http::RouteOptions user{.access = Access::user};
  const http::RouteOptions upload{.access = Access::user, .rate_policy = "upload",
                                  .body_limit = service.max_bytes() + http::kMultipartFraming};
  http::Router& r = ctx.router;
  r.add("POST", "/files/upload", bind(&Handlers::upload), upload);
  r.add("GET", "/files", bind(&Handlers::list), user);
  r.add("GET", "/files/{filename}/info", bind(&Handlers::info), user);
  r.add("GET", "/files/{filename}/download", bind(&Handlers::download), user);
  r.add("DELETE", "/files/{filename}", bind(&Handlers::remove), user);
}

void register_presigned_route(const modules::Context& ctx, const storage::LocalStore& store) {
  auto bind = http::bind_members(std::make_shared<PresignedHandler>(store));
  // Like other public media: not rate limited per request (a player fetches many ranges) and
  // readable from any origin (the signature, not the origin, is the credential).
  ctx.router.add("GET", std::string(storage::kPresignedPath) + "{key}", bind(&PresignedHandler::get),
                 {.rate_policy = "", .public_media = true});
}

namespace {

Response Handlers::do_upload(Request& req) {
  const std::string boundary = http::multipart_boundary(req.header("Content-Type"));
  const std::vector<http::FormPart> parts = http::parse_multipart(req.body, boundary);
  const http::FormPart* file = http::find_part(parts, {"file"});
  if (file == nullptr || !file->filename)
    throw ApiError(ErrorCode::bad_request, "No file in the form field `file`").with_reason(kNoFile);
  return Response::json(201, upload_json(service_.upload(req.auth(), *file->filename, file->data)));
}

Response Handlers::do_list(Request& req) {
  const std::string prefix = req.query_param("prefix").value_or("");
  const long long limit = http::query_int(req, "limit", 100, 1, 1000);
  nlohmann::json files = nlohmann::json::array();
  for (const FileView& v : service_.list(req.auth(), prefix, limit)) files.push_back(list_entry_json(v));
  const auto count = files.size();
  return Response::json(200, {{"files", std::move(files)}, {"count", count}, {"prefix", prefix}});
}

Response Handlers::do_info(Request& req) {
  const FileView v = service_.info(req.auth(), req.param("filename"));
  nlohmann::json body = file_details_json(v.file);
  body["download_url"] = v.download.url;
  return Response::json(200, body);
}

Response Handlers::do_download(Request& req) {
  return Response::json(200, download_json(service_.info(req.auth(), req.param("filename"))));
}

Response Handlers::do_remove(Request& req) {
  const std::string& name = req.param("filename");
  service_.remove(req.auth(), name);
  return Response::json(200, {{"message", "Файл успешно удален"}, {"filename", name}});
}

Response PresignedHandler::get(Request& req) {
  const std::string& key = req.param("key");
  const auto expires = req.query_param("expires");
  const auto signature = req.query_param("signature");
  if (!expires || !signature) throw ApiError(ErrorCode::forbidden, "This URL is not signed");
  switch (store_.signer().check(key, *expires, *signature, std::chrono::system_clock::now())) {
    case storage::UrlCheck::bad_signature:
      throw ApiError(ErrorCode::forbidden, "The URL's signature does not match it");
    case storage::UrlCheck::expired:
      throw ApiError(ErrorCode::forbidden, "The URL has expired");
    case storage::UrlCheck::valid:
      break;
  }
  // A valid signature over an invalid key cannot be made; path_of still refuses one.
  Response r = Response::file_of(req, store_.path_of(key), storage::content_type_of(key), "private, max-age=300");
  r.headers["X-Content-Type-Options"] = "nosniff";
  return r;
}

}  // namespace
}  // namespace reelhub::files
