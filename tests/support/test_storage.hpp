#pragma once
// The storage backend a parametrised suite runs on: the local one (files under the server's
// media root) or S3 (a real s3rver this object starts), with a test's own view of the objects
// the server writes, read from the backend itself.

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "reelhub/storage/object_store.hpp"
#include "s3_server.hpp"

namespace reelhub::testing {

enum class StorageBackend { local, s3 };

class TestStorage {
 public:
  /// Starts s3rver for StorageBackend::s3 (throws when it cannot, see S3Server).
  explicit TestStorage(StorageBackend backend);

  StorageBackend backend() const { return backend_; }
  /// REELHUB_* settings of a server on this storage ({} for the local backend's defaults).
  std::map<std::string, std::string> server_env() const;
  /// A store reading what a server with media root `media_root` and server_env() writes.
  std::unique_ptr<storage::ObjectStore> store(const std::filesystem::path& media_root) const;
  /// The s3rver; nullptr for the local backend.
  const S3Server* s3() const { return s3_.get(); }

 private:
  StorageBackend backend_;
  std::unique_ptr<S3Server> s3_;
};

/// The object as a file: the local backend's own, else a copy downloaded into `scratch_dir`
/// (for ffprobe and friends). Throws when it is absent.
std::filesystem::path file_of(storage::ObjectStore& store, const std::string& key,
                              const std::filesystem::path& scratch_dir);

/// The keys under `prefix`, without it ("videos/<id>/" -> "360p/index.m3u8", ...), in key order.
std::vector<std::string> keys_under(storage::ObjectStore& store, const std::string& prefix);

}  // namespace reelhub::testing
