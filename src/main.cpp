// Wires the process together: configuration, logging, database, modules, HTTP server.

#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <iostream>

#include "modules/auth/routes.hpp"
#include "modules/chats/routes.hpp"
#include "modules/notifications/routes.hpp"
#include "modules/notifications/service.hpp"
#include "modules/ops/routes.hpp"
#include "modules/recordings/routes.hpp"
#include "modules/recordings/service.hpp"
#include "modules/streams/routes.hpp"
#include "modules/users/routes.hpp"
#include "modules/videos/routes.hpp"
#include "modules/videos/worker.hpp"
#include "reelhub/core/app.hpp"
#include "reelhub/core/error.hpp"
#include "reelhub/core/logging.hpp"
#include "reelhub/db/migrations.hpp"
#include "reelhub/http/rate_limit.hpp"
#include "reelhub/http/server.hpp"
#include "reelhub/media/srt_ingest.hpp"
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

  const reelhub::Config& c = app.config;
  reelhub::recordings::RecordingService recordings(
      app.db, app.hub, app.media_root,
      {.workers = c.recording_workers, .live_retention = std::chrono::seconds(c.live_retention_seconds)});
  reelhub::recordings::register_routes(app, recordings);

  reelhub::streams::StreamOptions live{
      .live = {.target_duration = std::chrono::milliseconds(c.live_segment_ms),
               .window = static_cast<std::size_t>(c.live_window_segments),
               .stall_timeout = std::chrono::seconds(c.live_stall_seconds)},
      .waiting_timeout = std::chrono::seconds(c.live_waiting_timeout_seconds),
      .media_root = app.media_root,
      .public_host = c.public_host,
      .srt_port = c.srt_port};
  reelhub::media::LiveChannels channels;
  // A stopped stream with media becomes a recording (enqueue is idempotent and durable).
  auto streams = std::make_shared<reelhub::streams::StreamService>(
      app.db, app.hub, app.metrics, channels, live, [&recordings](const reelhub::streams::EndedStream& s) {
        recordings.enqueue({.stream_id = s.stream_id, .user_id = s.user_id, .title = s.title, .username = s.username});
      });
  reelhub::streams::register_routes(app, streams);  // also registers the "stream" topic
  // Declared after the service: destroyed first, so no session reports to a destroyed service.
  reelhub::media::SrtIngestServer ingest(channels, *streams, app.metrics, live.live);

  reelhub::videos::TranscodeWorkers transcoder(app.config, app.db, app.hub, app.metrics, app.media_root);
  reelhub::videos::register_routes(app, transcoder);

  app.hub.start();     // after migrations: the fan-out uses the ws_* tables
  recordings.start();  // after migrations too; resumes jobs an earlier process left unfinished
  transcoder.start();  // likewise for transcodes
  streams->resume();
  ingest.listen(c.srt_host, c.srt_port);

  reelhub::http::RateLimiter limiter(app.config.rate_limits);
  reelhub::http::Pipeline pipeline(app.config, app.router, limiter, app.tokens, app.metrics);
  reelhub::http::Server server(app.config, pipeline, app.metrics);
  server.serve_websockets(app.hub, app.tokens);
  server.on_drain([&transcoder] { transcoder.request_stop(); });  // jobs are given back for the next start
  server.listen();
  server.run();
  ingest.stop();      // publishers' open segments are written; their streams resume after a restart
  streams->stop();    // records those sessions' end while the hub and database are still up
  recordings.stop();  // a remux in progress is left for the next start
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
