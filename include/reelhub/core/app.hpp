#pragma once
// The process's shared parts, built once in main and handed to every module's register_routes().

#include <filesystem>

#include "reelhub/auth/tokens.hpp"
#include "reelhub/core/config.hpp"
#include "reelhub/db/pool.hpp"
#include "reelhub/http/router.hpp"
#include "reelhub/metrics/registry.hpp"
#include "reelhub/ws/live_hub.hpp"

namespace reelhub {

struct App {
  explicit App(Config cfg);

  Config config;
  metrics::Registry metrics;
  db::Pool db;
  auth::TokenSigner tokens;
  http::Router router;
  std::filesystem::path media_root;  // absolute
  ws::LiveHub hub;                   // modules publish through it as ws::Hub
};

}  // namespace reelhub
