#pragma once
// Process and filesystem helpers shared by the test harness (ports, temp dirs, child commands).

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace reelhub::testing {

/// A port the kernel just handed out as free (bound to port 0, then released).
std::uint16_t free_tcp_port();
std::uint16_t free_udp_port();

/// `bytes` random bytes, hex encoded (database names, unique usernames).
std::string random_hex(std::size_t bytes);

/// Value of an environment variable, or `fallback` when unset or empty.
std::string env_or(const char* name, const std::string& fallback);
/// Value of a required environment variable; throws with `why` when unset or empty.
std::string required_env(const char* name, const std::string& why);

/// The last `n` lines of `text` (all of it when shorter), marked when cut.
std::string last_lines(const std::string& text, std::size_t n);

/// A directory under /tmp created by mkdtemp and removed recursively on destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

/// Runs `argv` to completion (no shell) and returns its combined stdout+stderr.
/// Throws std::runtime_error with that output when it exits non-zero.
std::string run_command(const std::vector<std::string>& argv);

/// argv prefixed with `runuser -u <user> --` when this process is root, unchanged otherwise
/// (PostgreSQL refuses to run as root).
std::vector<std::string> as_user(const std::string& user, std::vector<std::string> argv);

/// Nice values of this process's threads named `name` (from /proc/self/task/*/stat).
std::vector<int> thread_nice_values(const std::string& name);

}  // namespace reelhub::testing
