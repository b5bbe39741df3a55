#include "hub_instance.hpp"

namespace reelhub::testing {

HubInstance::HubInstance(const std::string& database_url, int heartbeat_seconds) {
  config_.database_url = database_url;
  config_.ws_heartbeat_seconds = heartbeat_seconds;
  pool_ = std::make_unique<db::Pool>(db::PoolOptions{database_url, 2, std::chrono::milliseconds(2000), 10000}, metrics_);
  hub_ = std::make_unique<ws::LiveHub>(config_, *pool_, metrics_);
  hub_->start();
}

HubInstance::~HubInstance() {
  hub_.reset();  // stops the fan-out thread before the pool goes
}

}  // namespace reelhub::testing
