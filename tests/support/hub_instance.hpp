#pragma once
// A second hub in the test process: the library's own ws::LiveHub on the test database, so its
// events reach the server's sockets exactly as another `reelhub` instance's would (PostgreSQL
// LISTEN/NOTIFY, presence tables). Tests publish through it with no module involved.

#include <memory>
#include <string>

#include "reelhub/core/config.hpp"
#include "reelhub/db/pool.hpp"
#include "reelhub/metrics/registry.hpp"
#include "reelhub/ws/live_hub.hpp"

namespace reelhub::testing {

class HubInstance {
 public:
  /// Starts the hub's fan-out on `database_url`.
  explicit HubInstance(const std::string& database_url, int heartbeat_seconds = 1);
  ~HubInstance();

  ws::LiveHub& hub() { return *hub_; }

 private:
  Config config_;
  metrics::Registry metrics_;
  std::unique_ptr<db::Pool> pool_;
  std::unique_ptr<ws::LiveHub> hub_;
};

}  // namespace reelhub::testing
