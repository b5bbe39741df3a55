#pragma once
// The S3-compatible backend (AWS S3, MinIO, Ceph RGW, Yandex Object Storage, s3rver): objects in
// one bucket, requests signed with SigV4 (sigv4.hpp) and sent with Boost.Beast's synchronous HTTP
// client (call it from worker threads, never from an io thread). Large files go up as multipart
// uploads; requests that failed on the network or with a 5xx are retried with exponential backoff.

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "reelhub/storage/object_store.hpp"
#include "reelhub/storage/sigv4.hpp"

namespace reelhub::storage {

struct S3Options {
  std::string endpoint;  // "https://s3.eu-central-1.amazonaws.com", "http://127.0.0.1:9000"
  std::string region = "us-east-1";
  std::string bucket;
  sigv4::Credentials credentials;
  /// true: http://endpoint/bucket/key (MinIO, s3rver); false: http://bucket.endpoint/key (AWS).
  bool path_style = true;
  /// Files larger than this go up as multipart uploads of `part_bytes` parts (S3: >= 5 MiB).
  std::size_t multipart_threshold_bytes = std::size_t{16} << 20;
  std::size_t part_bytes = std::size_t{8} << 20;
  /// Tries per request (network errors, 5xx); waits 100 ms, 200 ms, 400 ms... in between.
  int max_attempts = 4;
  std::chrono::milliseconds first_backoff{100};
  std::chrono::seconds timeout{30};  // per request
};

class S3Store final : public ObjectStore {
 public:
  /// Throws std::invalid_argument for an endpoint that is not an http(s) URL.
  explicit S3Store(S3Options options);
  ~S3Store() override;

  std::string backend() const override { return "s3"; }
  ObjectInfo put_file(const std::string& key, const std::filesystem::path& source) override;
  ObjectInfo put_bytes(const std::string& key, std::string_view bytes) override;
  void get(const std::string& key, std::ostream& out, std::optional<ByteRange> range = std::nullopt) override;
  std::optional<ObjectInfo> head(const std::string& key) override;
  bool remove(const std::string& key) override;
  std::vector<ObjectInfo> list(const std::string& prefix, std::size_t limit) override;
  PresignedUrl presign_get(const std::string& key, std::chrono::seconds ttl) override;
  StoreHealth health() override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace reelhub::storage
