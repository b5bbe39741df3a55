#pragma once
// One interface for stored objects (uploaded files, video sources and renditions, recordings,
// thumbnails, avatars), with a local-disk backend under media_root and an S3 one. Objects are named by
// keys: '/'-separated segments of [A-Za-z0-9._-], none empty, none "." or "..", none starting with
// '.', so a key can never name anything outside the store's root.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace reelhub::storage {

/// What a store knows of one object.
struct ObjectInfo {
  std::string key;
  std::uint64_t size = 0;
  std::chrono::system_clock::time_point last_modified;
  std::string etag;  // lower-case hex MD5 of the content for objects put in one piece
};

/// Bytes [offset, offset + length) of an object; `length` unset = to the end.
struct ByteRange {
  std::uint64_t offset = 0;
  std::optional<std::uint64_t> length;
};

struct StoreHealth {
  bool reachable = false;  // the backend answered and accepted a write
  std::string message;
  std::optional<std::uintmax_t> free_bytes;  // unknown for object storage
};

/// A GET URL that works without a token until `expires_at`.
struct PresignedUrl {
  std::string url;
  std::chrono::system_clock::time_point expires_at;
};

/// The media type of an object by its key's extension ("application/octet-stream" when unknown).
std::string content_type_of(std::string_view key);

/// Throws ApiError(not_found) for an invalid key; returns it unchanged otherwise.
const std::string& checked_key(const std::string& key);
/// True when `key` is a valid object key (see the header comment).
bool valid_key(std::string_view key);

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;
  /// "local" or "s3".
  virtual std::string backend() const = 0;
  /// Stores the content of `source` under `key`, replacing any object there; readers see the old
  /// object or the new one, never a partial one.
  virtual ObjectInfo put_file(const std::string& key, const std::filesystem::path& source) = 0;
  /// Stores `bytes` under `key` (small objects: thumbnails, avatars, uploaded files).
  virtual ObjectInfo put_bytes(const std::string& key, std::string_view bytes) = 0;
  /// Writes the object (or `range` of it) to `out`. Throws ApiError(not_found) when absent,
  /// ApiError(range_not_satisfiable) for a range starting past its end.
  virtual void get(const std::string& key, std::ostream& out, std::optional<ByteRange> range = std::nullopt) = 0;
  virtual std::optional<ObjectInfo> head(const std::string& key) = 0;
  /// Removes the object; false when there was none.
  virtual bool remove(const std::string& key) = 0;
  /// Objects whose key starts with `prefix`, in key order, at most `limit`.
  virtual std::vector<ObjectInfo> list(const std::string& prefix, std::size_t limit) = 0;
  /// A GET URL for `key` that works without a token for `ttl`.
  virtual PresignedUrl presign_get(const std::string& key, std::chrono::seconds ttl) = 0;
  virtual StoreHealth health() = 0;
  /// The file that is the object `key` when the backend keeps objects as files (local: they are
  /// served with sendfile and written in place); nullopt for object storage. Throws
  /// ApiError(not_found) for an invalid key. The file itself may not exist.
  virtual std::optional<std::filesystem::path> local_file(const std::string& /*key*/) const { return std::nullopt; }
};

/// Removes every object whose key starts with `prefix` (a video's or a recording's files);
/// returns how many it removed.
std::size_t remove_prefix(ObjectStore& store, const std::string& prefix);

}  // namespace reelhub::storage
