// Wires the process together: configuration, logging, database, modules, HTTP server.

#include <spdlog/spdlog.h>

#include <filesystem>
#include <functional>
#include <iostream>

#include "modules/auth/routes.hpp"
#include "modules/chats/routes.hpp"
#include "modules/notifications/routes.hpp"
#include "modules/notifications/service.hpp"
#include "modules/ops/routes.hpp"
#include "modules/users/routes.hpp"
#include "modules/videos/routes.hpp"
#include "modules/videos/worker.hpp"
#include "reelhub/core/app.hpp"
#include "reelhub/core/error.hpp"
#include "reelhub/core/logging.hpp"
#include "reelhub/db/migrations.hpp"
#include "reelhub/http/rate_limit.hpp"
#include "reelhub/http/server.hpp"
#include "ws/routes.hpp"

namespace {

int apply_migrations(reelhub::App& app) {
  return app.db.with_connection(
      [](pqxx::connection& c) { return reelhub::db::migrate(c, reelhub::db::embedded_migrations()); });
}

int serve(reelhub::App& app) {
  std::filesystem::create_directories(app.media_root);
  if (app.config.migrate_on_start) apply_migrations(app);

  reelhub::ops::register_routes(app);
  reelhub::auth::register_routes(app);
  reelhub::notifications::NotificationService notifications(app.db, app.hub);
  reelhub::notifications::register_routes(app, notifications);
  reelhub::users::register_routes(
      app, std::bind_front(&reelhub::notifications::NotificationService::notify_new_subscriber, &notifications));
  reelhub::chats::register_routes(app, notifications);  // also registers the "chat" topic
  reelhub::ws::register_routes(app);
  reelhub::videos::TranscodeWorkers transcoder(app.config, app.db, app.hub, app.metrics, app.media_root);
  reelhub::videos::register_routes(app, transcoder);
  app.hub.start();  // after migrations: the fan-out uses the ws_* tables
  transcoder.start();

  reelhub::http::RateLimiter limiter(app.config.rate_limits);
  reelhub::http::Pipeline pipeline(app.config, app.router, limiter, app.tokens, app.metrics);
  reelhub::http::Server server(app.config, pipeline, app.metrics);
  server.serve_websockets(app.hub, app.tokens);
  server.on_drain([&transcoder] { transcoder.request_stop(); });  // jobs are given back for the next start
  server.listen();
  server.run();
  transcoder.stop();
  app.hub.stop();  // leaves the presence tables, so other instances see our users go offline now
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  reelhub::CommandLine cl;
  try {
    cl = reelhub::load_config(argc, argv, reelhub::current_environment());
  } catch (const reelhub::ConfigError& e) {
    std::cerr << "reelhub: configuration error: " << e.what() << "\n(see reelhub --help)\n";
    return 2;
  }
  if (cl.command == "help") {
    std::cout << reelhub::help_text();
    return 0;
  }
  reelhub::init_logging(cl.config.log_format, cl.config.log_level);
  try {
    reelhub::App app(std::move(cl.config));
    if (cl.command == "migrate") {
      const int applied = apply_migrations(app);
      spdlog::info("migrations up to date ({} applied)", applied);
      return 0;
    }
    return serve(app);
  } catch (const reelhub::ApiError& e) {
    spdlog::critical("cannot start: {} (is PostgreSQL running and DATABASE_URL right?)", e.what());
  } catch (const std::exception& e) {
    spdlog::critical("cannot start: {}", e.what());
  }
  return 1;
}
