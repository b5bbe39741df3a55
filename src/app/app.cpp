#include "app.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/signal_set.hpp>
#include <chrono>
#include <csignal>
#include <functional>

#include "modules.hpp"
#include "reelhub/auth/session_cache.hpp"
#include "reelhub/db/migrations.hpp"
#include "reelhub/http/rate_limit.hpp"
#include "reelhub/http/server.hpp"
#include "reelhub/jobs/janitor.hpp"
#include "reelhub/media/srt_ingest.hpp"
#include "reelhub/ws/session.hpp"

namespace reelhub::app {

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

  Modules modules(ctx, [this](const std::string& id) { hub_.end_session(id); });
  // The cache asks the auth module's tables about a session it does not know; a session ended
  // anywhere is dropped from every instance's cache through the hub.
  auth::SessionCache sessions(std::chrono::milliseconds(c.session_cache_ttl_ms),
                              std::bind_front(&auth::AuthService::session_live, &modules.accounts));
  hub_.check_sessions_with(sessions);
  // Declared after the services: destroyed first, so no session reports to a destroyed service.
  media::SrtIngestServer ingest(modules.channels, modules.streams, metrics_,
                                Modules::stream_options(c, media_root_).live);

  const std::chrono::seconds min_age(c.janitor_min_age_seconds);
  jobs::Janitor janitor(
      std::chrono::seconds(c.janitor_interval_seconds),
      {{"upload bodies", [&] { return jobs::remove_stale_entries(media_root_ / "tmp", min_age, [](auto&) { return true; }); }},
       {"half-written files", [&] { return jobs::remove_stale_temp_files(media_root_, min_age); }},
       {"abandoned video directories", [&] { return modules.videos.remove_abandoned_dirs(min_age); }},
       {"ended sessions",
        [&] { return modules.accounts.purge_ended_sessions(std::chrono::seconds(c.session_retention_seconds)); }},
       {"expired idempotency keys", [&] {
          return modules.payments.purge_idempotency_keys(std::chrono::seconds(c.payments_idempotency_retention_seconds));
        }}});

  hub_.start();                // after migrations: the fan-out uses the ws_* tables
  modules.recordings.start();  // after migrations too; resumes jobs an earlier process left unfinished
  modules.transcoder.start();  // likewise for transcodes
  janitor.start();
  modules.streams.resume();
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
  server.on_drain([&modules] { modules.transcoder.request_stop(); });  // jobs are given back for the next start
  boost::asio::signal_set signals(server.executor(), SIGINT, SIGTERM);
  signals.async_wait([&server](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    spdlog::info("received signal {}, draining", signo);
    server.drain();
  });
  server.listen();
  server.run();
  ingest.stop();              // publishers' open segments are written; their streams resume after a restart
  modules.streams.stop();     // records those sessions' end while the hub and database are still up
  modules.recordings.stop();  // a remux in progress is left for the next start
  modules.transcoder.stop();
  janitor.stop();
  hub_.stop();  // leaves the presence tables, so other instances see our users go offline now
  return 0;
}

}  // namespace reelhub::app
