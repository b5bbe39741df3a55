#pragma once

#include <set>
#include <string>

#include "modules/kit/context.hpp"

namespace reelhub::web {

class StaticSite;

/// Makes `site` the router's fallback for GET: registered after every other module, so any API
/// route wins. `site` must outlive the router.
void register_routes(const modules::Context& ctx, const StaticSite& site);

/// The first path segment of every route registered so far: the prefixes the client's pages
/// must not take.
std::set<std::string> api_prefixes(const http::Router& router);

}  // namespace reelhub::web
