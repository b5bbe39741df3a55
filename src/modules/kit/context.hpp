#pragma once
// What the composition root (src/app) hands every module's register_routes(): the shared parts,
// each by the face modules may use — ws::Hub is the hub's interface, not its implementation.
// Services themselves are built by the composition root and passed alongside, by reference.

#include <filesystem>

#include "reelhub/auth/tokens.hpp"
#include "reelhub/core/config.hpp"
#include "reelhub/db/pool.hpp"
#include "reelhub/http/router.hpp"
#include "reelhub/metrics/registry.hpp"
#include "reelhub/ws/hub.hpp"

namespace reelhub::modules {

struct Context {
  const Config& config;
  db::Pool& db;
  metrics::Registry& metrics;
  const auth::TokenSigner& tokens;
  http::Router& router;
  ws::Hub& hub;
  std::filesystem::path media_root;  // absolute
};

}  // namespace reelhub::modules
