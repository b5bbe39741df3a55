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

Response health(Request&) {
  return Response::json(200, {{"status", "healthy"}, {"service", "reelhub"}, {"timestamp", iso8601_now()}});
}

Response live(Request&) {
  const auto uptime = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - process_start);
  return Response::json(200, {{"status", "alive"}, {"uptime_seconds", uptime.count()}});
}

Response ready(HealthService& health, Request&) {
  const bool db_up = health.database_up();
  const bool schema = db_up && health.migrations_current();
  const bool storage = health.storage().writable;
  const bool ok = db_up && schema && storage;
  nlohmann::json checks = {{"database", db_up ? "ok" : "unavailable"},
                           {"migrations", schema ? "ok" : (db_up ? "pending" : "unknown")},
                           {"storage", storage ? "ok" : "unwritable"}};
  return Response::json(ok ? 200 : 503,
                        {{"status", ok ? "ready" : "not_ready"}, {"checks", checks}, {"timestamp", iso8601_now()}});
}

Response storage(HealthService& health, Request&) {
  const StorageState s = health.storage();
  return Response::json(s.writable ? 200 : 503, {{"status", s.writable ? "healthy" : "unhealthy"},
                                                 {"message", s.message},
                                                 {"free_bytes", s.free_bytes},
                                                 {"timestamp", iso8601_now()}});
}

Response metrics_text(metrics::Registry& metrics, Request&) {
  Response r;
  r.headers["Content-Type"] = "text/plain; version=0.0.4; charset=utf-8";
  r.headers["Cache-Control"] = "no-store";
  r.body = metrics.render();
  return r;
}

Response openapi(Request&) {
  Response r;
  r.headers["Content-Type"] = "application/yaml; charset=utf-8";
  r.body = std::string(openapi_yaml());
  return r;
}

}  // namespace

void register_routes(App& app) {
  auto health_service = std::make_shared<HealthService>(app.db, app.media_root);
  auto& metrics = app.metrics;
  const http::RouteOptions inline_public{.rate_policy = "", .blocking = false};
  const http::RouteOptions blocking_public{.rate_policy = ""};

  auto& r = app.router;
  r.add("GET", "/health", health, inline_public);
  r.add("GET", "/health/live", live, inline_public);
  r.add("GET", "/health/ready", [health_service](Request& req) { return ready(*health_service, req); }, blocking_public);
  r.add("GET", "/health/storage", [health_service](Request& req) { return storage(*health_service, req); },
        blocking_public);
  r.add("GET", "/metrics", [&metrics](Request& req) { return metrics_text(metrics, req); }, inline_public);
  r.add("GET", "/openapi.yaml", openapi, inline_public);
}

}  // namespace reelhub::ops
