#pragma once
// The HTTP/1.1 server: Beast on Asio with one coroutine per connection. Its only Beast types
// are those of the upgrade hook (upgrade.hpp); the composition root is the one place that
// includes it besides server.cpp.

#include <boost/asio/any_io_executor.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "reelhub/core/config.hpp"
#include "reelhub/http/pipeline.hpp"
#include "reelhub/http/upgrade.hpp"

namespace reelhub::metrics {
class Registry;
}

namespace reelhub::http {

class Server {
 public:
  Server(const Config& config, Pipeline& pipeline, metrics::Registry& metrics);
  ~Server();
  /// Binds; throws std::system_error when the port is taken.
  void listen();
  std::uint16_t port() const;
  /// The io context's executor, for timers and signal sets of whoever runs the server.
  boost::asio::any_io_executor executor();
  /// Serves until drain() has finished: returns once in-flight requests are done (or after
  /// shutdown_grace_seconds).
  void run();
  /// Stops accepting, runs the drain hooks, closes idle connections and lets in-flight requests
  /// finish. Idempotent; call it on the server's executor.
  void drain();
  /// Callbacks run when draining starts (close WebSockets, stop ingest).
  void on_drain(std::function<void()> fn);
  /// Hands upgrade requests (`Upgrade: websocket`) of the route `pattern`, once routed and
  /// admitted, to `hook`; they count as open connections until the hook returns.
  void on_upgrade(std::string pattern, UpgradeHook hook);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace reelhub::http
