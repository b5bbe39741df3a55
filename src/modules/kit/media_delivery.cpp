#include "media_delivery.hpp"

#include <sstream>

#include "reelhub/core/error.hpp"

namespace reelhub::modules {
namespace {

constexpr std::string_view kPlaylistType = "application/vnd.apple.mpegurl";

[[noreturn]] void file_not_found() { throw ApiError(ErrorCode::not_found, "File not found"); }

}  // namespace

MediaDelivery::MediaDelivery(storage::ObjectStore& store, const std::string& mode)
    : store_(store), mode_(mode == "proxy" ? Mode::proxy : Mode::redirect) {}

bool MediaDelivery::blocking() const { return store_.backend() != "local"; }

http::Response MediaDelivery::serve(const http::Request& req, const std::string& key, std::string content_type,
                                    std::string cache_control) const {
  if (!storage::valid_key(key)) file_not_found();
  if (const auto file = store_.local_file(key)) {
    return http::Response::file_of(req, *file, std::move(content_type), std::move(cache_control));
  }
  // Asked first on both paths, so a missing object is Reelhub's JSON 404 rather than the object
  // service's XML one behind a redirect.
  const auto info = store_.head(key);
  if (!info) file_not_found();
  // A playlist names its segments relative to its own URL: redirected, a player would resolve
  // them against the object service, where they are not signed.
  if (content_type == kPlaylistType || mode_ == Mode::proxy) {
    return proxy(req, *info, std::move(content_type), std::move(cache_control));
  }
  return redirect(key);
}

http::Response MediaDelivery::redirect(const std::string& key) const {
  const storage::PresignedUrl url = store_.presign_get(key, kPresignTtl);
  http::Response r;
  r.status = 302;
  r.headers["Location"] = url.url;
  // Each redirect carries a fresh signature; a cache keeping one could outlive it.
  r.headers["Cache-Control"] = "private, no-store";
  return r;
}

http::Response MediaDelivery::proxy(const http::Request& req, const storage::ObjectInfo& info,
                                    std::string content_type, std::string cache_control) const {
  http::MediaAnswer a = http::answer_media(req, "\"" + info.etag + "\"", info.size, std::move(content_type),
                                           std::move(cache_control), kMaxProxyBytes);
  if (!a.has_body) return std::move(a.response);
  if (!a.range && info.size > kMaxProxyBytes) return redirect(info.key);
  std::optional<storage::ByteRange> part;
  if (a.range) part = storage::ByteRange{.offset = a.range->first, .length = a.range->last - a.range->first + 1};
  std::ostringstream body;
  store_.get(info.key, body, part);
  a.response.body = std::move(body).str();
  return std::move(a.response);
}

}  // namespace reelhub::modules
