#pragma once
// A real S3-protocol server for tests: npm's s3rver (installed by `npm ci`, see scripts/test)
// on a free port with one bucket, its data in a temporary directory. It speaks the S3 protocol
// (buckets, PUT/GET/HEAD/DELETE, Range, multipart uploads) and checks the access key and a
// presigned URL's expiry, but it does not verify SigV4 signatures (its authentication middleware
// leaves V4 unimplemented): the signer is proven by tests/unit/sigv4_test.cpp instead.

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "child_process.hpp"
#include "reelhub/storage/s3_store.hpp"
#include "system.hpp"

namespace reelhub::testing {

class S3Server {
 public:
  /// Starts s3rver and waits until it accepts connections; throws when it cannot be started
  /// (node_modules/.bin/s3rver missing: run `npm ci` in the repository).
  S3Server();
  ~S3Server();

  std::uint16_t port() const { return port_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  static constexpr const char* kBucket = "reelhub";
  /// REELHUB_* settings that point a server's storage at this bucket.
  std::map<std::string, std::string> server_env() const;
  /// What a test's own storage::S3Store needs to read the bucket the server writes.
  storage::S3Options options() const;

 private:
  TempDir dir_;
  std::uint16_t port_;
  std::unique_ptr<ChildProcess> child_;
};

}  // namespace reelhub::testing
