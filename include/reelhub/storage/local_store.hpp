#pragma once
// The embedded backend: objects are files under one root directory (media_root), nothing to
// install. Keys are checked (object_store.hpp) and the resolved path must stay inside the root,
// symlinks included.

#include <filesystem>

#include "reelhub/core/files.hpp"
#include "reelhub/storage/object_store.hpp"
#include "reelhub/storage/url_signer.hpp"

namespace reelhub::storage {

class LocalStore final : public ObjectStore {
 public:
  /// `root` is created when missing. `url_base` is put before presigned paths ("" = relative
  /// URLs, "https://media.example.com" = absolute ones).
  LocalStore(std::filesystem::path root, UrlSigner signer, std::string url_base);

  std::string backend() const override { return "local"; }
  ObjectInfo put_file(const std::string& key, const std::filesystem::path& source) override;
  ObjectInfo put_bytes(const std::string& key, std::string_view bytes) override;
  void get(const std::string& key, std::ostream& out, std::optional<ByteRange> range = std::nullopt) override;
  std::optional<ObjectInfo> head(const std::string& key) override;
  bool remove(const std::string& key) override;
  std::vector<ObjectInfo> list(const std::string& prefix, std::size_t limit) override;
  PresignedUrl presign_get(const std::string& key, std::chrono::seconds ttl) override;
  StoreHealth health() override;
  std::optional<std::filesystem::path> local_file(const std::string& key) const override { return path_of(key); }

  /// The file of `key`; throws ApiError(not_found) for an invalid key or a path that would leave
  /// the root. The file itself may not exist.
  std::filesystem::path path_of(const std::string& key) const;
  const UrlSigner& signer() const { return signer_; }

 private:
  ObjectInfo info_of(const std::string& key, const std::filesystem::path& path) const;

  std::filesystem::path root_;       // absolute, lexically normal
  std::filesystem::path real_root_;  // root_ with its symlinks resolved
  FileDescriptor root_dir_;          // root_ opened O_PATH: paths are resolved beneath it
  UrlSigner signer_;
  std::string url_base_;
};

}  // namespace reelhub::storage
