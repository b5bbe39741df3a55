#include "s3_server.hpp"

#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <thread>

#include "http_client.hpp"

namespace reelhub::testing {

S3Server::S3Server() : dir_("reelhub-s3"), port_(free_tcp_port()) {
  const std::filesystem::path s3rver = std::filesystem::path(REELHUB_SOURCE_DIR) / "node_modules/.bin/s3rver";
  if (!std::filesystem::exists(s3rver))
    throw std::runtime_error(s3rver.string() + " is missing: run `npm ci` in the repository (scripts/test does)");
  std::filesystem::create_directories(dir_.path() / "data");
  child_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{s3rver.string(), "--directory", (dir_.path() / "data").string(), "--address",
                               "127.0.0.1", "--port", std::to_string(port_), "--configure-bucket", kBucket},
      dir_.path() / "s3rver.log");
  // Node starts in well under a second; the bucket exists once the port answers.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!can_connect(port_, std::chrono::milliseconds(200))) {
    if (!child_->running()) throw std::runtime_error("s3rver exited: " + child_->output());
    if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("s3rver did not start: " + child_->output());
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

S3Server::~S3Server() = default;

std::map<std::string, std::string> S3Server::server_env() const {
  return {{"REELHUB_STORAGE_BACKEND", "s3"}, {"REELHUB_S3_ENDPOINT", endpoint()}, {"REELHUB_S3_BUCKET", kBucket},
          {"REELHUB_S3_ACCESS_KEY", "S3RVER"},  {"REELHUB_S3_SECRET_KEY", "S3RVER"}, {"REELHUB_S3_PATH_STYLE", "true"}};
}

storage::S3Options S3Server::options() const {
  return {.endpoint = endpoint(), .bucket = kBucket, .credentials = {.access_key = "S3RVER", .secret_key = "S3RVER"}};
}

}  // namespace reelhub::testing
