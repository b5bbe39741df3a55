#include "app.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/signal_set.hpp>
#include <chrono>
#include <csignal>
#include <functional>

#include "modules/auth/routes.hpp"
#include "modules/auth/service.hpp"
#include "modules/chats/routes.hpp"
#include "modules/chats/service.hpp"
#include "modules/kit/context.hpp"
#include "modules/notifications/routes.hpp"
#include "modules/notifications/service.hpp"
#include "modules/ops/health.hpp"
#include "modules/ops/routes.hpp"
#include "modules/recordings/routes.hpp"
#include "modules/recordings/service.hpp"
#include "modules/streams/routes.hpp"
#include "modules/users/routes.hpp"
#include "modules/users/service.hpp"
#include "modules/videos/routes.hpp"
#include "modules/videos/service.hpp"
#include "modules/videos/worker.hpp"
#include "reelhub/auth/session_cache.hpp"
#include "reelhub/core/error.hpp"
#include "reelhub/db/migrations.hpp"
#include "reelhub/http/rate_limit.hpp"
#include "reelhub/http/server.hpp"
#include "reelhub/jobs/janitor.hpp"
#include "reelhub/media/srt_ingest.hpp"
#include "reelhub/ws/session.hpp"

namespace reelhub::app {
namespace {

/// GET /ws as a route: it carries the ws_connect rate limit. Upgrades never reach its handler
/// (the server hands them to the upgrade hook); a plain GET gets 400.
void register_websocket_route(http::Router& router) {
  const http::RouteOptions options{.access = http::Access::public_, .rate_policy = "ws_connect", .blocking = false};
  router.add(
      "GET", ws::kEndpointPath,
      [](http::Request&) -> http::Response {
        throw ApiError(ErrorCode::bad_request, "GET /ws is a WebSocket endpoint: send an Upgrade: websocket request");
      },
      options);
}

}  // namespace

App::App(Config config)
    : config_(std::move(config)),
      db_(db::PoolOptions{config_.database_url, config_.db_pool_size, std::chrono::milliseconds(config_.db_wait_ms),
                          config_.db_statement_timeout_ms},
          metrics_),
      tokens_(config_.jwt_secret, config_.access_token_ttl_seconds, config_.jwt_leeway_seconds),
      media_root_(std::filesystem::absolute(config_.media_root)),
      hub_(config_, db_, metrics_) {}

int App::migrate() {
  return db_.with_connection([](pqxx::connection& c) { return db::migrate(c, db::embedded_migrations()); });
}

int App::serve() {
  std::filesystem::create_directories(media_root_);
  if (config_.migrate_on_start) migrate();
  const Config& c = config_;
  const modules::Context ctx{.config = c,
                             .db = db_,
                             .metrics = metrics_,
                             .tokens = tokens_,
                             .router = router_,
                             .hub = hub_,
                             .media_root = media_root_};

  ops::HealthService health(db_, media_root_);
  ops::register_routes(ctx, health);
  // A session revoked here is dropped from every instance's session cache and closes its
  // WebSockets; the cache asks the auth module's tables when it does not know a session.
  auth::AuthService accounts(db_, tokens_,
                             {.refresh_ttl_seconds = c.refresh_token_ttl_seconds,
                              .reuse_grace_seconds = c.refresh_reuse_grace_seconds,
                              .on_session_ended = [this](const std::string& id) { hub_.end_session(id); }});
  auth::SessionCache sessions(std::chrono::milliseconds(c.session_cache_ttl_ms),
                              std::bind_front(&auth::AuthService::session_live, &accounts));
  hub_.check_sessions_with(sessions);
  auth::register_routes(ctx, accounts);
  notifications::NotificationService notifications(db_, hub_);
  notifications::register_routes(ctx, notifications);
  users::UsersService users(db_, media_root_,
                            std::bind_front(&notifications::NotificationService::notify_new_subscriber, &notifications));
  users::register_routes(ctx, users);
  // Config always has "chat_send" (a default that a config file may only override).
  chats::ChatService chats(db_, hub_, notifications, c.rate_limits.at("chat_send"));
  chats::register_routes(ctx, chats);
  register_websocket_route(router_);

  recordings::RecordingService recordings(
      db_, hub_, media_root_,
      {.workers = c.recording_workers, .live_retention = std::chrono::seconds(c.live_retention_seconds)});
  recordings::register_routes(ctx, recordings);

  streams::StreamOptions live{.live = {.target_duration = std::chrono::milliseconds(c.live_segment_ms),
                                       .window = static_cast<std::size_t>(c.live_window_segments),
                                       .stall_timeout = std::chrono::seconds(c.live_stall_seconds),
                                       .max_segment_bytes = c.live_max_segment_bytes,
                                       .max_channel_bytes = c.live_max_channel_bytes,
                                       .max_bitrate_kbps = c.live_max_bitrate_kbps},
                              .waiting_timeout = std::chrono::seconds(c.live_waiting_timeout_seconds),
                              .media_root = media_root_,
                              .public_host = c.public_host,
                              .srt_port = c.srt_port,
                              .max_streams_per_user = c.live_max_streams_per_user,
                              .max_streams = static_cast<std::size_t>(c.live_max_streams)};
  media::LiveChannels channels;
  // A stopped stream with media becomes a recording (enqueue is idempotent and durable).
  streams::StreamService streams(db_, hub_, metrics_, channels, live, [&recordings](const streams::EndedStream& s) {
    recordings.enqueue({.stream_id = s.stream_id, .user_id = s.user_id, .title = s.title, .username = s.username});
  });
  streams::register_routes(ctx, streams);
  // Declared after the service: destroyed first, so no session reports to a destroyed service.
  media::SrtIngestServer ingest(channels, streams, metrics_, live.live);

  videos::TranscodeWorkers transcoder(c, db_, hub_, metrics_, media_root_);
  videos::VideoService videos(db_, media_root_, videos::upload_limits(c), [&transcoder] { transcoder.wake(); });
  videos::register_routes(ctx, videos);

  const std::chrono::seconds min_age(c.janitor_min_age_seconds);
  jobs::Janitor janitor(
      std::chrono::seconds(c.janitor_interval_seconds),
      {{"upload bodies", [&] { return jobs::remove_stale_entries(media_root_ / "tmp", min_age, [](auto&) { return true; }); }},
       {"half-written files", [&] { return jobs::remove_stale_temp_files(media_root_, min_age); }},
       {"abandoned video directories", [&] { return videos.remove_abandoned_dirs(min_age); }},
       {"ended sessions",
        [&] { return accounts.purge_ended_sessions(std::chrono::seconds(c.session_retention_seconds)); }}});

  hub_.start();        // after migrations: the fan-out uses the ws_* tables
  recordings.start();  // after migrations too; resumes jobs an earlier process left unfinished
  transcoder.start();  // likewise for transcodes
  janitor.start();
  streams.resume();
  ingest.listen(c.srt_host, c.srt_port);

  http::RateLimiter limiter(c.rate_limits);
  http::Pipeline pipeline(c, router_, limiter, tokens_, metrics_);
  pipeline.check_sessions_with(sessions);
  http::Server server(c, pipeline, metrics_);
  server.on_upgrade(ws::kEndpointPath, [this](http::Upgrade upgrade) {
    std::optional<std::string> token;
    if (const auto it = upgrade.query.find("access_token"); it != upgrade.query.end()) token = it->second;
    return ws::serve_websocket(hub_, tokens_, std::move(upgrade.workers), std::move(upgrade.stream),
                               std::move(upgrade.request), std::move(token));
  });
  server.on_drain([this] { hub_.close_all(ws::CloseCode::going_away, "Server shutting down"); });
  server.on_drain([&transcoder] { transcoder.request_stop(); });  // jobs are given back for the next start
  boost::asio::signal_set signals(server.executor(), SIGINT, SIGTERM);
  signals.async_wait([&server](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    spdlog::info("received signal {}, draining", signo);
    server.drain();
  });
  server.listen();
  server.run();
  ingest.stop();      // publishers' open segments are written; their streams resume after a restart
  streams.stop();     // records those sessions' end while the hub and database are still up
  recordings.stop();  // a remux in progress is left for the next start
  transcoder.stop();
  janitor.stop();
  hub_.stop();  // leaves the presence tables, so other instances see our users go offline now
  return 0;
}

}  // namespace reelhub::app
