#include "modules/web/routes.hpp"

#include "modules/web/site.hpp"

namespace reelhub::web {

std::set<std::string> api_prefixes(const http::Router& router) {
  std::set<std::string> prefixes;
  for (const auto& route : router.routes())
    if (!route->segments.empty()) prefixes.insert(route->segments.front());
  return prefixes;
}

void register_routes(const modules::Context& ctx, const StaticSite& site) {
  // Not rate limited (like media), inline on the io thread: a stat() or two per request.
  const http::RouteOptions options{.access = http::Access::public_, .rate_policy = "", .blocking = false};
  ctx.router.set_fallback("/{web client}", [&site](http::Request& req) { return site.serve(req); }, options);
}

}  // namespace reelhub::web
