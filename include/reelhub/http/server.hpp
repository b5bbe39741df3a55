#pragma once
// The HTTP/1.1 server: Beast on Asio with one coroutine per connection. Beast lives only in
// server.cpp; this header is cheap to include.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <functional>
#include <memory>

#include "reelhub/core/config.hpp"
#include "reelhub/http/message.hpp"

namespace reelhub::metrics {
class Registry;
}
namespace reelhub::auth {
class TokenSigner;
}
namespace reelhub::ws {
class LiveHub;
}

namespace reelhub::http {

class Router;
struct Route;
class RateLimiter;

/// Where a request stands after the cheap, non-blocking steps (routing, auth, rate limit).
struct Prepared {
  const Route* route = nullptr;
  std::optional<Response> response;  // set when the request is answered without the handler
  Headers extra_headers;             // X-RateLimit-*, added to whatever the answer is
  std::string route_label;           // the route pattern, for metrics ("unmatched" otherwise)
};

/// Turns one parsed request into a response: routing, auth, rate limits, CORS, errors.
/// Free of sockets, so tests drive it directly; the server calls prepare() and finish() on the
/// io thread and invoke() on the worker pool for blocking routes.
class Pipeline {
 public:
  Pipeline(const Config& config, const Router& router, RateLimiter& limiter, const auth::TokenSigner& tokens,
           metrics::Registry& metrics);

  /// How the body of a request for a route is read: its size limit (checked against
  /// Content-Length before the body is read, and while it is read) and whether it goes to a file.
  struct BodyPolicy {
    std::size_t limit = 0;
    bool to_file = false;
  };
  BodyPolicy body_policy_for(const std::string& method, const std::string& path) const;
  /// The body limit of the route a request will reach (checked before the body is read).
  std::size_t body_limit_for(const std::string& method, const std::string& path) const {
    return body_policy_for(method, path).limit;
  }
  Prepared prepare(Request& req) const;
  /// Runs the handler; any exception becomes the JSON error response. Never throws.
  Response invoke(const Route& route, Request& req) const;
  /// Adds request id, CORS and rate-limit headers, records metrics and the access log line.
  void finish(const Request& req, const Prepared& prepared, Response& res,
              std::chrono::steady_clock::time_point started) const;
  /// prepare + invoke + finish on the calling thread.
  Response handle(Request& req) const;

 private:
  const Config& config_;
  const Router& router_;
  RateLimiter& limiter_;
  const auth::TokenSigner& tokens_;
  metrics::Registry& metrics_;
};

class Server {
 public:
  Server(const Config& config, Pipeline& pipeline, metrics::Registry& metrics);
  ~Server();
  /// Binds; throws std::system_error when the port is taken.
  void listen();
  std::uint16_t port() const;
  /// Serves until SIGTERM/SIGINT, then drains: stops accepting, lets in-flight requests
  /// finish (up to shutdown_grace_seconds), closes idle connections, and returns.
  void run();
  /// Callbacks run when draining starts (close WebSockets, stop ingest).
  void on_drain(std::function<void()> fn);
  /// Hands WebSocket upgrades of GET /ws (once routed and rate limited) to `hub`'s sessions; they
  /// count as open connections and are closed with 1001 when draining starts.
  void serve_websockets(ws::LiveHub& hub, const auth::TokenSigner& tokens);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace reelhub::http
