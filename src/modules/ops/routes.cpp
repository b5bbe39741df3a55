#include "modules/ops/routes.hpp"

#include <chrono>
#include <memory>

#include "modules/ops/health.hpp"
#include "reelhub/core/time.hpp"

namespace reelhub::ops {
namespace {

using http::Request;
using http::Response;

const auto process_start = std::chrono::steady_clock::now();

/// The ops endpoints: health, readiness, metrics and the API description.
class Handlers {
 public:
  Handlers(HealthService& health, metrics::Registry& metrics) : health_(health), metrics_(metrics) {}

  Response health(Request& req);
  Response live(Request& req);
  Response ready(Request& req);
  Response storage(Request& req);
  Response metrics_text(Request& req);
  Response openapi(Request& req);

 private:
  HealthService& health_;
  metrics::Registry& metrics_;
};

Response Handlers::health(Request&) {
  return Response::json(200, {{"status", "healthy"}, {"service", "reelhub"}, {"timestamp", iso8601_now()}});
}

Response Handlers::live(Request&) {
  const auto uptime = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - process_start);
  return Response::json(200, {{"status", "alive"}, {"uptime_seconds", uptime.count()}});
}

Response Handlers::ready(Request&) {
  const bool db_up = health_.database_up();
  const bool schema = db_up && health_.migrations_current();
  const bool storage = health_.storage().reachable;
  const bool ok = db_up && schema && storage;
  nlohmann::json checks = {{"database", db_up ? "ok" : "unavailable"},
                           {"migrations", schema ? "ok" : (db_up ? "pending" : "unknown")},
                           {"storage", storage ? "ok" : "unwritable"}};
  return Response::json(ok ? 200 : 503,
                        {{"status", ok ? "ready" : "not_ready"}, {"checks", checks}, {"timestamp", iso8601_now()}});
}

Response Handlers::storage(Request&) {
  const storage::StoreHealth s = health_.storage();
  return Response::json(s.reachable ? 200 : 503,
                        {{"status", s.reachable ? "healthy" : "unhealthy"},
                         {"message", s.message},
                         {"backend", health_.storage_backend()},
                         {"reachable", s.reachable},
                         {"free_bytes", s.free_bytes ? nlohmann::json(*s.free_bytes) : nlohmann::json(nullptr)},
                         {"timestamp", iso8601_now()}});
}

Response Handlers::metrics_text(Request&) {
  Response r;
  r.headers["Content-Type"] = "text/plain; version=0.0.4; charset=utf-8";
  r.headers["Cache-Control"] = "no-store";
  r.body = metrics_.render();
  return r;
}

Response Handlers::openapi(Request&) {
  Response r;
  r.headers["Content-Type"] = "application/yaml; charset=utf-8";
  r.body = std::string(openapi_yaml());
  return r;
}

}  // namespace

void register_routes(const modules::Context& ctx, HealthService& health) {
  auto bind = http::bind_members(std::make_shared<Handlers>(health, ctx.metrics));
  const http::RouteOptions inline_public{.rate_policy = "", .blocking = false};
  const http::RouteOptions blocking_public{.rate_policy = ""};

  http::Router& r = ctx.router;
  r.add("GET", "/health", bind(&Handlers::health), inline_public);
  r.add("GET", "/health/live", bind(&Handlers::live), inline_public);
  r.add("GET", "/health/ready", bind(&Handlers::ready), blocking_public);
  r.add("GET", "/health/storage", bind(&Handlers::storage), blocking_public);
  r.add("GET", "/metrics", bind(&Handlers::metrics_text), inline_public);
  r.add("GET", "/openapi.yaml", bind(&Handlers::openapi), inline_public);
}

}  // namespace reelhub::ops
