#pragma once
// A child process for tests: the server, an ffmpeg publisher. Output goes to a log file; the
// child dies with the test binary (even when ctest kills it on a timeout).

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace reelhub::testing {

class ChildProcess {
 public:
  /// Starts argv[0] (a path or a name looked up in PATH) in `cwd` with exactly `env`
  /// ("KEY=value" entries); stdin is /dev/null, stdout+stderr append to `log`.
  ChildProcess(std::vector<std::string> argv, std::vector<std::string> env, const std::filesystem::path& cwd,
               const std::filesystem::path& log);
  /// The same with this process's environment.
  ChildProcess(std::vector<std::string> argv, const std::filesystem::path& log);
  ~ChildProcess();  // SIGKILL when still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  /// True while the child has not exited (reaps it when it has).
  bool running();
  void send_signal(int signal);
  /// Its exit code, or -N when killed by signal N. Throws when still running after `timeout`.
  int wait_exit(std::chrono::milliseconds timeout);
  void kill_now();
  /// What it has written so far.
  std::string output() const;
  const std::filesystem::path& log_path() const { return log_; }

 private:
  std::filesystem::path log_;
  pid_t pid_ = -1;
  int status_ = 0;
  bool reaped_ = false;
};

/// This process's environment as "KEY=value" entries.
std::vector<std::string> current_environment_entries();

}  // namespace reelhub::testing
