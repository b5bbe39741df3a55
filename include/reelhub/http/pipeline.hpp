#pragma once
// Turns one parsed request into a response: routing, auth, rate limits, CORS, errors, metrics
// and the access log. Free of sockets, so tests drive it directly; the server runs route() and
// admit() on the io thread, invoke() on the worker pool for blocking routes, then finish().

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>

#include "reelhub/core/config.hpp"
#include "reelhub/http/message.hpp"

namespace reelhub::metrics {
class Registry;
}
namespace reelhub::auth {
class TokenSigner;
class SessionCache;
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
  /// The token's session was not in the session cache: invoke() asks the database before the
  /// handler runs, so the request must go to a worker even on a non-blocking route.
  bool session_unconfirmed = false;
};

/// How the body of a request is read: its size limit (checked against Content-Length before
/// the body is read, and while it is read) and whether it goes to a file.
struct BodyPolicy {
  std::size_t limit = 0;
  bool to_file = false;
};

class Pipeline {
 public:
  Pipeline(const Config& config, const Router& router, RateLimiter& limiter, const auth::TokenSigner& tokens,
           metrics::Registry& metrics);

  /// Matches the request (header only: its body may not be read yet) to a route, once: assigns
  /// the request id, the decoded path, query and path parameters. Unroutable requests (bad
  /// target, 404, 405, OPTIONS preflight) come back with their response set.
  Prepared route(Request& req) const;
  /// The body policy of a routed request.
  BodyPolicy body_policy(const Prepared& prepared) const;
  /// Authentication, role and rate limit of a routed request; a refusal sets the response.
  void admit(Request& req, Prepared& prepared) const;
  /// Confirms an unconfirmed session (may read the database), then runs the handler; any
  /// exception becomes the JSON error response. Never throws.
  Response invoke(const Prepared& prepared, Request& req) const;
  /// Adds request id, CORS and rate-limit headers, records metrics and the access log line.
  void finish(const Request& req, const Prepared& prepared, Response& res,
              std::chrono::steady_clock::time_point started) const;
  /// route + admit + invoke + finish on the calling thread.
  Response handle(Request& req) const;
  /// From now on a bearer token is accepted only while its session is live (logout, reuse
  /// revocation and deactivation end it). Without this, tokens are checked statelessly.
  void check_sessions_with(auth::SessionCache& sessions) { sessions_ = &sessions; }

 private:
  const Config& config_;
  const Router& router_;
  RateLimiter& limiter_;
  const auth::TokenSigner& tokens_;
  metrics::Registry& metrics_;
  auth::SessionCache* sessions_ = nullptr;
};

}  // namespace reelhub::http
