#include "modules.hpp"

#include <chrono>
#include <functional>

#include "modules/auth/routes.hpp"
#include "modules/chats/routes.hpp"
#include "modules/files/routes.hpp"
#include "modules/notifications/routes.hpp"
#include "modules/ops/routes.hpp"
#include "modules/payments/providers/sandbox.hpp"
#include "modules/payments/providers/stripe.hpp"
#include "modules/payments/routes.hpp"
#include "modules/recordings/routes.hpp"
#include "modules/rooms/routes.hpp"
#include "modules/streams/routes.hpp"
#include "modules/users/routes.hpp"
#include "modules/videos/routes.hpp"
#include "modules/web/routes.hpp"
#include "reelhub/core/error.hpp"
#include "reelhub/storage/local_store.hpp"
#include "reelhub/storage/s3_store.hpp"
#include "reelhub/ws/live_hub.hpp"

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

streams::StreamOptions Modules::stream_options(const Config& c, const std::filesystem::path& media_root) {
  return {.live = {.target_duration = std::chrono::milliseconds(c.live_segment_ms),
                   .part_target = std::chrono::milliseconds(c.live_part_ms),
                   .window = static_cast<std::size_t>(c.live_window_segments),
                   .stall_timeout = std::chrono::seconds(c.live_stall_seconds),
                   .max_segment_bytes = c.live_max_segment_bytes,
                   .max_channel_bytes = c.live_max_channel_bytes,
                   .max_bitrate_kbps = c.live_max_bitrate_kbps},
          .waiting_timeout = std::chrono::seconds(c.live_waiting_timeout_seconds),
          .media_root = media_root,
          .public_host = c.public_host,
          .srt_port = c.srt_port,
          .max_streams_per_user = c.live_max_streams_per_user,
          .max_streams = static_cast<std::size_t>(c.live_max_streams)};
}

std::unique_ptr<storage::ObjectStore> Modules::object_store(const Config& c, const std::filesystem::path& media_root) {
  if (c.storage_backend == "s3") {
    return std::make_unique<storage::S3Store>(
        storage::S3Options{.endpoint = c.s3_endpoint,
                           .region = c.s3_region,
                           .bucket = c.s3_bucket,
                           .credentials = {.access_key = c.s3_access_key, .secret_key = c.s3_secret_key},
                           .path_style = c.s3_path_style,
                           .multipart_threshold_bytes = c.s3_multipart_threshold_bytes,
                           .part_bytes = c.s3_part_size_bytes,
                           .max_attempts = c.s3_max_attempts});
  }
  return std::make_unique<storage::LocalStore>(
      media_root, storage::UrlSigner(c.storage_url_secret.empty() ? c.jwt_secret : c.storage_url_secret),
      c.storage_url_base);
}

payments::PaymentOptions Modules::payment_options(const Config& c) {
  return {.currencies = c.payments_currencies,
          .platform_fee_bps = c.payments_platform_fee_bps,
          .max_amount = c.payments_max_amount,
          .donation_message_max = static_cast<std::size_t>(c.payments_donation_message_max),
          .refund_window = std::chrono::seconds(c.payments_refund_window_seconds),
          .idempotency_wait = std::chrono::milliseconds(c.payments_idempotency_wait_ms)};
}

std::vector<std::unique_ptr<payments::Provider>> Modules::payment_providers(const Config& c) {
  std::vector<std::unique_ptr<payments::Provider>> out;
  const std::string base_url = "http://" + c.public_host + ":" + std::to_string(c.http_port);
  if (c.payments_sandbox_enabled) {
    // One secret for every instance without configuring one: derived from the shared JWT secret.
    const std::string secret = c.payments_sandbox_webhook_secret.empty()
                                   ? payments::hmac_sha256_hex(c.jwt_secret, "reelhub sandbox webhooks")
                                   : c.payments_sandbox_webhook_secret;
    out.push_back(std::make_unique<payments::SandboxProvider>(base_url, secret, c.payments_webhook_tolerance_seconds));
  }
  if (!c.payments_stripe_secret_key.empty()) {
    auto or_home = [&](const std::string& url) { return url.empty() ? base_url + "/" : url; };
    out.push_back(std::make_unique<payments::StripeProvider>(
        payments::StripeOptions{.api_base = c.payments_stripe_api_base,
                                .secret_key = c.payments_stripe_secret_key,
                                .webhook_secret = c.payments_stripe_webhook_secret,
                                .success_url = or_home(c.payments_stripe_success_url),
                                .cancel_url = or_home(c.payments_stripe_cancel_url),
                                .tolerance_seconds = c.payments_webhook_tolerance_seconds}));
  }
  return out;
}

Modules::Modules(const modules::Context& ctx, std::function<void(const std::string& session_id)> on_session_ended)
    : store(object_store(ctx.config, ctx.media_root)),
      delivery(*store, ctx.config.storage_media_delivery),
      video_files(*store, ctx.media_root),
      health(ctx.db, *store),
      accounts(ctx.db, ctx.tokens,
               {.refresh_ttl_seconds = ctx.config.refresh_token_ttl_seconds,
                .reuse_grace_seconds = ctx.config.refresh_reuse_grace_seconds,
                .on_session_ended = std::move(on_session_ended)}),
      notifications(ctx.db, ctx.hub),
      users(ctx.db, *store,
            std::bind_front(&notifications::NotificationService::notify_new_subscriber, &notifications)),
      // Config always has "chat_send" (a default that a config file may only override).
      chats(ctx.db, ctx.hub, notifications, ctx.config.rate_limits.at("chat_send")),
      recordings(ctx.db, ctx.hub, ctx.media_root, *store,
                 {.workers = ctx.config.recording_workers,
                  .live_retention = std::chrono::seconds(ctx.config.live_retention_seconds)}),
      // A stopped stream with media becomes a recording (enqueue is idempotent and durable).
      streams(ctx.db, ctx.hub, ctx.metrics, channels, stream_options(ctx.config, ctx.media_root),
              [this](const streams::EndedStream& s) {
                recordings.enqueue(
                    {.stream_id = s.stream_id, .user_id = s.user_id, .title = s.title, .username = s.username});
              }),
      transcoder(ctx.config, ctx.db, ctx.hub, ctx.metrics, video_files),
      videos(ctx.db, video_files, videos::upload_limits(ctx.config), [this] { transcoder.wake(); }),
      rooms(ctx.db, ctx.hub, notifications, videos, recordings, std::chrono::milliseconds(ctx.config.room_heartbeat_ms)),
      files(ctx.db, *store, ctx.config.files_max_bytes),
      payments(ctx.db, ctx.hub, ctx.metrics, streams, notifications, payment_options(ctx.config),
               payment_providers(ctx.config)) {
  ops::register_routes(ctx, health);
  auth::register_routes(ctx, accounts);
  notifications::register_routes(ctx, notifications);
  users::register_routes(ctx, users, delivery);
  chats::register_routes(ctx, chats);
  register_websocket_route(ctx.router);
  recordings::register_routes(ctx, recordings, delivery);
  streams::register_routes(ctx, streams);
  videos::register_routes(ctx, videos, delivery);
  rooms::register_routes(ctx, rooms);
  files::register_routes(ctx, files);
  if (const auto* local = dynamic_cast<const storage::LocalStore*>(store.get())) {
    files::register_presigned_route(ctx, *local);
  }
  payments::register_routes(ctx, payments);
  // Last: the web client takes the paths no module's route matches, minus the modules' prefixes.
  site = std::make_unique<web::StaticSite>(std::filesystem::absolute(ctx.config.web_root),
                                           web::api_prefixes(ctx.router));
  web::register_routes(ctx, *site);
}

}  // namespace reelhub::app
