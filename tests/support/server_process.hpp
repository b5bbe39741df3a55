#pragma once
// The real `reelhub serve` binary as a child process on free ports, for integration tests.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include <optional>

#include "child_process.hpp"
#include "http_client.hpp"
#include "system.hpp"

namespace reelhub::testing {

struct ServerOptions {
  std::string database_url;
  /// Extra or overriding environment (REELHUB_RATE_LIMITS, REELHUB_SHUTDOWN_GRACE_SECONDS, ...).
  std::map<std::string, std::string> env;
  std::chrono::milliseconds ready_timeout{std::chrono::seconds(60)};
  /// Media root to use instead of a fresh one (a restarted server finds its files again).
  std::optional<std::filesystem::path> media_root{};
};

/// Spawns REELHUB_BINARY with its own ports, media root and JWT secret, waits until
/// GET /health/live answers, and kills it on destruction. stdout+stderr go to a log file
/// that is printed when a test fails.
class ServerProcess {
 public:
  explicit ServerProcess(ServerOptions options);
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  std::uint16_t port() const { return port_; }
  std::uint16_t srt_port() const { return srt_port_; }
  pid_t pid() const { return child_->pid(); }
  const std::string& jwt_secret() const { return jwt_secret_; }
  const std::filesystem::path& media_root() const { return media_root_; }
  const std::filesystem::path& log_path() const { return log_path_; }
  /// Everything the server has written so far.
  std::string log() const;

  HttpClient http(std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

  /// True while the child has not exited (reaps it when it has).
  bool running();
  void send_signal(int signal);
  /// Waits for the child to exit: its exit code, or -N when killed by signal N.
  /// Throws when it is still running after `timeout`.
  int wait_exit(std::chrono::milliseconds timeout);

 private:
  void wait_ready(std::chrono::milliseconds timeout);
  void kill_now();

  TempDir dir_;
  std::filesystem::path media_root_;
  std::filesystem::path log_path_;
  std::uint16_t port_;
  std::uint16_t srt_port_;
  std::string jwt_secret_;
  std::optional<ChildProcess> child_;
};

}  // namespace reelhub::testing
