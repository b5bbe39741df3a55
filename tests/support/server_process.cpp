#include "server_process.hpp"

#include <gtest/gtest.h>
#include <signal.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <vector>

#ifndef REELHUB_BINARY
#error "REELHUB_BINARY (path of the reelhub executable) must be defined by the build"
#endif

namespace reelhub::testing {
namespace {

std::string read_file_from(const std::filesystem::path& path, std::streamoff offset) {
  std::ifstream in(path, std::ios::binary);
  in.seekg(offset);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::streamoff file_size_or_zero(const std::filesystem::path& path) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  return ec ? 0 : static_cast<std::streamoff>(size);
}

/// Prints what each running server logged during a test when that test fails.
class LogOnFailure : public ::testing::EmptyTestEventListener {
 public:
  static LogOnFailure& instance() {
    static LogOnFailure* self = [] {
      auto* l = new LogOnFailure;  // owned by gtest's listener list from here on
      ::testing::UnitTest::GetInstance()->listeners().Append(l);
      return l;
    }();
    return *self;
  }

  void add(const ServerProcess* s) {
    std::lock_guard lock(mutex_);
    servers_[s] = 0;
  }
  void remove(const ServerProcess* s) {
    std::lock_guard lock(mutex_);
    servers_.erase(s);
  }

  void OnTestStart(const ::testing::TestInfo&) override {
    std::lock_guard lock(mutex_);
    for (auto& [server, offset] : servers_) offset = file_size_or_zero(server->log_path());
  }

  void OnTestEnd(const ::testing::TestInfo& info) override {
    if (!info.result()->Failed()) return;
    // The server flushes its log at least once a second; wait for the lines of this test.
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    std::lock_guard lock(mutex_);
    for (const auto& [server, offset] : servers_) {
      std::fprintf(stderr, "---- reelhub (pid %d, port %u) log during %s.%s ----\n%s\n---- end of log ----\n",
                   server->pid(), server->port(), info.test_suite_name(), info.name(),
                   last_lines(read_file_from(server->log_path(), offset), 200).c_str());
    }
  }

 private:
  std::mutex mutex_;
  std::map<const ServerProcess*, std::streamoff> servers_;
};

bool inherited_setting(const char* entry) {
  return std::strncmp(entry, "REELHUB_", 8) == 0 || std::strncmp(entry, "DATABASE_URL=", 13) == 0;
}

}  // namespace

ServerProcess::ServerProcess(ServerOptions options)
    : dir_("reelhub-server"),
      media_root_(options.media_root.value_or(dir_.path() / "media")),
      log_path_(dir_.path() / "server.log"),
      port_(free_tcp_port()), srt_port_(free_udp_port()), jwt_secret_("test-secret-" + random_hex(24)) {
  std::filesystem::create_directories(media_root_);

  // The parent's environment minus any REELHUB_*/DATABASE_URL of the developer's shell, plus ours.
  std::map<std::string, std::string> env = {
      {"DATABASE_URL", options.database_url},
      {"REELHUB_HTTP_HOST", "127.0.0.1"},
      {"REELHUB_HTTP_PORT", std::to_string(port_)},
      {"REELHUB_SRT_PORT", std::to_string(srt_port_)},
      {"REELHUB_MEDIA_ROOT", media_root_.string()},
      {"REELHUB_JWT_SECRET", jwt_secret_},
      {"REELHUB_LOG_FORMAT", "json"},
  };
  for (auto& [k, v] : options.env) env[k] = v;
  std::vector<std::string> env_strings;
  for (const std::string& e : current_environment_entries())
    if (!inherited_setting(e.c_str())) env_strings.push_back(e);
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  child_.emplace(std::vector<std::string>{REELHUB_BINARY, "serve"}, std::move(env_strings), dir_.path(), log_path_);

  LogOnFailure::instance().add(this);
  try {
    wait_ready(options.ready_timeout);
  } catch (...) {
    LogOnFailure::instance().remove(this);
    kill_now();
    throw;
  }
}

ServerProcess::~ServerProcess() {
  LogOnFailure::instance().remove(this);
  kill_now();
}

void ServerProcess::kill_now() { child_->kill_now(); }

std::string ServerProcess::log() const { return read_file_from(log_path_, 0); }

HttpClient ServerProcess::http(std::chrono::milliseconds timeout) const { return HttpClient(port_, timeout); }

bool ServerProcess::running() { return child_->running(); }

void ServerProcess::send_signal(int signal) { child_->send_signal(signal); }

int ServerProcess::wait_exit(std::chrono::milliseconds timeout) { return child_->wait_exit(timeout); }

void ServerProcess::wait_ready(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string last;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!running()) {
      const int code = child_->wait_exit(std::chrono::milliseconds(0));
      throw std::runtime_error("reelhub exited (code " + std::to_string(code) +
                               ") before answering GET /health/live; its log:\n" + log());
    }
    try {
      auto res = http(std::chrono::seconds(2)).get("/health/live");
      if (res.status == 200) return;
      last = "GET /health/live answered " + std::to_string(res.status);
    } catch (const std::exception& e) {
      last = e.what();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  throw std::runtime_error("reelhub did not become live within " + std::to_string(timeout.count()) +
                           " ms (last attempt: " + last + "); its log:\n" + log());
}

}  // namespace reelhub::testing
