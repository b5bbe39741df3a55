#pragma once
// The composition root: builds the process's shared parts once, then wires every module onto
// them (services, routes, hub topics, background workers), the HTTP server's WebSocket upgrade
// hook and the signal handling. The only place that sees every layer.

#include <filesystem>

#include "reelhub/auth/tokens.hpp"
#include "reelhub/core/config.hpp"
#include "reelhub/db/pool.hpp"
#include "reelhub/http/router.hpp"
#include "reelhub/metrics/registry.hpp"
#include "reelhub/ws/live_hub.hpp"

namespace reelhub::app {

class App {
 public:
  explicit App(Config config);

  /// Applies the embedded migrations; returns how many were applied.
  int migrate();
  /// Serves HTTP, WebSocket and SRT until SIGTERM/SIGINT, then drains and stops in order.
  int serve();

 private:
  Config config_;
  metrics::Registry metrics_;
  db::Pool db_;
  auth::TokenSigner tokens_;
  http::Router router_;
  std::filesystem::path media_root_;  // absolute
  ws::LiveHub hub_;
};

}  // namespace reelhub::app
