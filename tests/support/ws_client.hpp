#pragma once
// A synchronous WebSocket client for tests (Beast stays in ws_client.cpp). Every call has a
// deadline, so a silent server fails a test instead of hanging it; after a timeout the
// connection is unusable.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "http_client.hpp"

namespace reelhub::testing {

/// The server answered the upgrade with an HTTP status instead of 101.
struct WsRefused : std::runtime_error {
  WsRefused(int status, std::string body)
      : std::runtime_error("WebSocket upgrade refused with HTTP " + std::to_string(status) + ": " + body),
        status(status) {}
  int status;
};

/// The server closed the connection: the close code (1006 when it vanished without a close frame).
struct WsClosed : std::runtime_error {
  WsClosed(int code, std::string reason)
      : std::runtime_error("WebSocket closed with " + std::to_string(code) + " (" + reason + ")"),
        code(code),
        reason(std::move(reason)) {}
  int code;
  std::string reason;
};

struct WsOptions {
  std::string target = "/ws";
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};
  int receive_buffer = 0;  // SO_RCVBUF before connecting; 0 keeps the kernel default
};

class WsClient {
 public:
  /// Connects and upgrades; throws WsRefused or std::system_error.
  explicit WsClient(std::uint16_t port, WsOptions options = {});
  ~WsClient();
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  void send(const nlohmann::json& message);
  void send_text(std::string_view text);
  void send_binary(std::string_view bytes);

  /// The next message. Throws WsClosed when the server closes, std::runtime_error on timeout
  /// or a message that is not JSON.
  nlohmann::json receive();
  nlohmann::json receive(std::chrono::milliseconds timeout);
  /// Reads until a message of `type` (and `id`, when not null) arrives; the ones before it are
  /// appended to `skipped` when given.
  nlohmann::json receive_until(const std::string& type, const nlohmann::json& id = nullptr,
                               std::vector<nlohmann::json>* skipped = nullptr);
  /// Reads (discarding messages) until the server closes; returns the close code.
  int await_close(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  /// Sends a close frame (1000) and waits for the server's answer.
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// ?access_token=<token> for WsOptions::target.
std::string ws_target_with_token(const std::string& token);
/// WsOptions authenticating as the owner of `access_token` through the query string.
WsOptions ws_with_token(const std::string& access_token);

/// The environment of relaxed_rate_limits() plus unlimited WebSocket connects, then `extra`.
std::map<std::string, std::string> ws_env(const std::map<std::string, std::string>& extra = {});

/// The value of an unlabelled series in GET /metrics; 0 when absent.
double metric_value(const HttpClient& http, const std::string& name);

/// Polls `condition` every 20 ms; false when it still fails after `within`.
template <class Fn>
bool eventually(Fn&& condition, std::chrono::milliseconds within = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

/// Sends {"type":"authenticate"} and returns the "authenticated" reply (throws on anything else).
nlohmann::json authenticate(WsClient& ws, const std::string& token);

}  // namespace reelhub::testing
