#pragma once
// Method + path pattern -> handler, with per-route policy (auth, role, rate limit, body limit).
// Matching is pure and unit-tested; the server calls dispatch() for every request.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "reelhub/http/message.hpp"

namespace reelhub::http {

using Handler = std::function<Response(Request&)>;

enum class Access { public_, optional_user, user };

struct RouteOptions {
  Access access = Access::public_;
  auth::Role min_role = auth::Role::viewer;        // checked when access == user
  std::string rate_policy = "general";  // "" = not rate limited (media, health)
  std::size_t body_limit = 0;           // 0 = server default
  bool blocking = true;   // runs on the worker pool (DB, hashing); false = inline on the io thread
  bool public_media = false;  // CORS `*`: playlists, segments, thumbnails, recordings
  bool body_to_file = false;  // stream the body to a temp file (Request::body_file), never into memory
};

struct Route {
  std::string method;
  std::string pattern;  // "/users/{id}/subscribe"
  Handler handler;
  RouteOptions options;
  std::vector<std::string> segments;  // pattern split on '/'
};

/// Result of matching a path: the route (or none) plus the methods the path allows.
struct Match {
  const Route* route = nullptr;
  std::map<std::string, std::string> params;
  std::vector<std::string> allowed;  // for 405 + Allow; empty when the path is unknown
};

/// Adapts members of one shared handler object to route handlers, so a module's route table
/// stays one line per route: `auto bind = bind_members(handlers); r.add("GET", "/x", bind(&H::list));`
template <class H>
auto bind_members(std::shared_ptr<H> handlers) {
  return [handlers](Response (H::*fn)(Request&)) -> Handler {
    return [handlers, fn](Request& req) { return (handlers.get()->*fn)(req); };
  };
}

class Router {
 public:
  void add(std::string method, std::string pattern, Handler handler, RouteOptions options = {});
  /// Finds the route for method + decoded path segments. HEAD matches GET routes.
  Match match(const std::string& method, const std::vector<std::string>& segments) const;
  /// The GET route of every path no pattern matches (the web client's files and its pages), so
  /// the API's routes always win. `pattern` names it in metrics. Other methods stay 404 there.
  void set_fallback(std::string pattern, Handler handler, RouteOptions options = {});
  const std::vector<std::unique_ptr<Route>>& routes() const { return routes_; }

 private:
  std::vector<std::unique_ptr<Route>> routes_;
  std::unique_ptr<Route> fallback_;
};

}  // namespace reelhub::http
