#pragma once
// How stored media (video renditions, previews, thumbnails, recordings, avatars) reach players,
// whatever the backend: the local backend's files go out with sendfile as before; objects in S3
// are answered by a 302 to a presigned URL or proxied through Reelhub (storage_media_delivery).

#include <chrono>
#include <cstdint>
#include <string>

#include "reelhub/http/message.hpp"
#include "reelhub/storage/object_store.hpp"

namespace reelhub::modules {

class MediaDelivery {
 public:
  enum class Mode {
    redirect,  // 302 to a presigned URL, except playlists (their relative URIs must resolve to Reelhub)
    proxy,     // every byte through Reelhub
  };
  /// How long a redirect's presigned URL works: longer than any player takes to follow it.
  static constexpr std::chrono::seconds kPresignTtl{3600};
  /// The most one proxied response holds in memory: a longer range is cut to this (players ask
  /// for the rest), and a request without a range for a larger object is redirected instead.
  static constexpr std::uint64_t kMaxProxyBytes = std::uint64_t{16} << 20;

  /// `mode` as storage_media_delivery spells it ("redirect" | "proxy").
  MediaDelivery(storage::ObjectStore& store, const std::string& mode);

  /// Whether the media routes must run on the worker pool: serving an object of S3 asks the
  /// network, serving a local file is a stat and a sendfile on the io thread.
  bool blocking() const;
  storage::ObjectStore& store() const { return store_; }

  /// The object `key` as the answer to `req`: ETag / If-None-Match and single ranges on every
  /// path. Throws ApiError(not_found) when the object is absent or the key is invalid.
  http::Response serve(const http::Request& req, const std::string& key, std::string content_type,
                       std::string cache_control) const;

 private:
  http::Response redirect(const std::string& key) const;
  http::Response proxy(const http::Request& req, const storage::ObjectInfo& info, std::string content_type,
                       std::string cache_control) const;

  storage::ObjectStore& store_;
  Mode mode_;
};

}  // namespace reelhub::modules
