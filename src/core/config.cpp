#include "reelhub/core/config.hpp"

#include <unistd.h>

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <type_traits>
#include <utility>
#include <nlohmann/json.hpp>

extern char** environ;

namespace reelhub {
namespace {

using nlohmann::json;

/// One configuration key: its file name, help line, and how it moves in and out of Config.
struct Key {
  std::string name;
  std::string help;
  std::function<json(const Config&)> get;
  std::function<void(Config&, const json&)> set;
};

template <class T>
Key key(std::string name, T Config::*field, std::string help) {
  return Key{std::move(name), std::move(help), [field](const Config& c) { return json(c.*field); },
             [field](Config& c, const json& v) {
               if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
                 if (!v.is_number_integer() || !std::in_range<T>(v.get<long long>()))
                   throw ConfigError("out of range: " + v.dump());
               }
               c.*field = v.get<T>();
             }};
}

const std::vector<Key>& keys() {
  static const std::vector<Key> all = {
      key("mode", &Config::mode, "development | production (production refuses the example JWT secret)"),
      key("database_url", &Config::database_url, "PostgreSQL URL; also read from DATABASE_URL"),
      key("http_host", &Config::http_host, "address the HTTP server binds"),
      key("http_port", &Config::http_port, "HTTP and WebSocket port"),
      key("srt_port", &Config::srt_port, "UDP port of the SRT ingest listener"),
      key("media_root", &Config::media_root, "directory for avatars, live segments, recordings, videos"),
      key("web_root", &Config::web_root, "directory of the built web client (web/dist), served at /"),
      key("public_host", &Config::public_host, "host name put into srt_url for publishers"),
      key("log_format", &Config::log_format, "text | json"),
      key("log_level", &Config::log_level, "trace | debug | info | warn | error"),
      key("migrate_on_start", &Config::migrate_on_start, "apply pending migrations when serving"),
      key("jwt_secret", &Config::jwt_secret, "HS256 secret for access tokens (at least 32 characters)"),
      key("access_token_ttl_seconds", &Config::access_token_ttl_seconds, "access token lifetime"),
      key("refresh_token_ttl_seconds", &Config::refresh_token_ttl_seconds, "refresh token lifetime"),
      key("jwt_leeway_seconds", &Config::jwt_leeway_seconds, "clock skew tolerated on exp/iat/nbf"),
      key("cors_origins", &Config::cors_origins, "origins allowed to call the API from a browser; [\"*\"] for any"),
      key("trusted_proxies", &Config::trusted_proxies,
          "addresses or CIDR blocks of our reverse proxies; X-Forwarded-For is believed only from them"),
      key("io_threads", &Config::io_threads, "network threads; 0 = one per core"),
      key("max_connections", &Config::max_connections, "open HTTP/WebSocket connections before new ones get 503"),
      key("max_connections_per_ip", &Config::max_connections_per_ip,
          "open connections from one client address (IPv6: one /64) before new ones get 429; proxies exempt"),
      key("header_timeout_seconds", &Config::header_timeout_seconds, "time to send request headers"),
      key("idle_timeout_seconds", &Config::idle_timeout_seconds, "keep-alive idle time"),
      key("body_timeout_seconds", &Config::body_timeout_seconds, "time to send a request body"),
      key("body_limit_bytes", &Config::body_limit_bytes, "default request body limit"),
      key("avatar_limit_bytes", &Config::avatar_limit_bytes, "largest avatar upload"),
      key("body_memory_budget_bytes", &Config::body_memory_budget_bytes,
          "request bodies read into memory at once across all connections; beyond it new ones get 503"),
      key("shutdown_grace_seconds", &Config::shutdown_grace_seconds, "how long SIGTERM waits for in-flight requests"),
      key("db_pool_size", &Config::db_pool_size, "PostgreSQL connections (and blocking worker threads)"),
      key("db_wait_ms", &Config::db_wait_ms, "longest wait for a free connection before 503"),
      key("db_statement_timeout_ms", &Config::db_statement_timeout_ms, "PostgreSQL statement_timeout"),
      key("ws_auth_timeout_ms", &Config::ws_auth_timeout_ms, "WebSocket: time to authenticate before close 4401"),
      key("ws_ping_interval_ms", &Config::ws_ping_interval_ms, "WebSocket: server ping interval"),
      key("ws_max_missed_pongs", &Config::ws_max_missed_pongs, "WebSocket: unanswered pings before close 4408"),
      key("ws_max_message_bytes", &Config::ws_max_message_bytes, "WebSocket: largest client message (else close 1009)"),
      key("ws_queue_max_messages", &Config::ws_queue_max_messages,
          "WebSocket: send queue limit in messages per connection (overflow closes with 1008)"),
      key("ws_queue_max_bytes", &Config::ws_queue_max_bytes, "WebSocket: send queue limit in bytes per connection"),
      key("ws_max_subscriptions", &Config::ws_max_subscriptions, "WebSocket: topics one connection may subscribe to"),
      key("ws_history_size", &Config::ws_history_size, "WebSocket: events kept per topic for offset recovery"),
      key("ws_history_ttl_seconds", &Config::ws_history_ttl_seconds,
          "WebSocket: how long a topic without subscribers keeps its history"),
      key("srt_host", &Config::srt_host, "address the SRT ingest listener binds (IPv4)"),
      key("live_segment_ms", &Config::live_segment_ms, "live HLS target segment duration (cut on keyframes)"),
      key("live_part_ms", &Config::live_part_ms, "LL-HLS partial segment target duration (cut on frames)"),
      key("live_window_segments", &Config::live_window_segments, "segments listed in a live playlist"),
      key("live_stall_seconds", &Config::live_stall_seconds, "a publisher silent this long is dropped (stream waits)"),
      key("live_waiting_timeout_seconds", &Config::live_waiting_timeout_seconds,
          "a started stream without a publisher this long is stopped"),
      // Live limits
      key("live_max_segment_bytes", &Config::live_max_segment_bytes,
          "largest live segment in bytes; a keyframe cuts one at half of it, a publisher that would pass it is dropped"),
      key("live_max_channel_bytes", &Config::live_max_channel_bytes,
          "live segment bytes one stream keeps in memory; older segments are served from their files"),
      key("live_max_bitrate_kbps", &Config::live_max_bitrate_kbps,
          "a publisher sending more (MPEG-TS, averaged over 4 s) is dropped"),
      key("live_max_streams_per_user", &Config::live_max_streams_per_user,
          "started (waiting or live) streams one owner may have at once"),
      key("live_max_streams", &Config::live_max_streams, "started (waiting or live) streams this server runs at once"),
      key("ws_heartbeat_seconds", &Config::ws_heartbeat_seconds,
          "WebSocket: presence heartbeat; an instance silent for 3 is taken as gone"),
      // WebSocket client requests and watch-together rooms (docs/realtime.md)
      key("ws_request_rate", &Config::ws_request_rate,
          "WebSocket: time.sync and room requests one connection may send per second (also the burst)"),
      key("room_heartbeat_ms", &Config::room_heartbeat_ms, "rooms: a playing room repeats its playback state this often"),
      key("ws_departure_grace_ms", &Config::ws_departure_grace_ms,
          "WebSocket: a user whose connection closed leaves its rooms after this unless subscribed again"),
      key("recording_workers", &Config::recording_workers,
          "threads turning stopped live streams into recordings (below live ingest in CPU priority)"),
      key("live_retention_seconds", &Config::live_retention_seconds,
          "how long live segments stay on disk once their recording is ready (0 = removed at once)"),
      key("upload_max_bytes", &Config::upload_max_bytes, "largest video upload (POST /videos/upload)"),
      key("transcode_workers", &Config::transcode_workers, "videos transcoded at once by this process"),
      key("transcode_threads", &Config::transcode_threads, "libav threads per decoder and per x264 encoder"),
      key("transcode_nice", &Config::transcode_nice, "nice value of transcode threads (0..19), so live ingest comes first"),
      key("transcode_lease_seconds", &Config::transcode_lease_seconds,
          "a transcode job not renewed for this long (its process died) is taken over"),
      key("transcode_segment_seconds", &Config::transcode_segment_seconds, "HLS segment length of videos (2..6)"),
      key("transcode_preset", &Config::transcode_preset, "libx264 preset of video transcodes"),
      // Upload quotas
      key("upload_quota_bytes", &Config::upload_quota_bytes,
          "bytes of videos one user may store (sources while processing, then renditions); 413 above"),
      key("upload_max_duration_seconds", &Config::upload_max_duration_seconds, "longest video upload; 422 above"),
      key("upload_max_pixels", &Config::upload_max_pixels, "largest width x height of a video upload; 422 above"),
      key("janitor_interval_seconds", &Config::janitor_interval_seconds,
          "how often leftovers of crashes are swept (upload bodies, half-written files, orphaned video "
          "directories, ended sessions)"),
      key("janitor_min_age_seconds", &Config::janitor_min_age_seconds,
          "files and directories younger than this are never swept"),
      key("session_retention_seconds", &Config::session_retention_seconds,
          "how long ended (revoked or expired) sessions are kept before they are purged"),
      // Object storage (issue 12)
      key("storage_backend", &Config::storage_backend, "local (files under media_root) | s3"),
      key("storage_url_base", &Config::storage_url_base,
          "put before the local backend's presigned paths, e.g. https://api.example.com; \"\" = relative URLs"),
      key("storage_url_secret", &Config::storage_url_secret,
          "HMAC secret of the local backend's presigned URLs, shared by every instance; \"\" = derived from jwt_secret"),
      key("storage_media_delivery", &Config::storage_media_delivery,
          "storage_backend=s3: redirect (302 to a presigned URL; playlists proxied) | proxy (every byte through Reelhub)"),
      key("files_max_bytes", &Config::files_max_bytes, "largest file of POST /files/upload (seed 001: 16 MB)"),
      key("s3_endpoint", &Config::s3_endpoint, "storage_backend=s3: the service's URL, http(s)://host[:port]"),
      key("s3_region", &Config::s3_region, "storage_backend=s3: region of the SigV4 credential scope"),
      key("s3_bucket", &Config::s3_bucket, "storage_backend=s3: the bucket (it must exist)"),
      key("s3_access_key", &Config::s3_access_key, "storage_backend=s3: access key id"),
      key("s3_secret_key", &Config::s3_secret_key, "storage_backend=s3: secret access key"),
      key("s3_path_style", &Config::s3_path_style,
          "storage_backend=s3: endpoint/bucket/key (true; MinIO, s3rver) or bucket.endpoint/key (false; AWS)"),
      key("s3_multipart_threshold_bytes", &Config::s3_multipart_threshold_bytes,
          "storage_backend=s3: files larger than this go up as multipart uploads"),
      key("s3_part_size_bytes", &Config::s3_part_size_bytes, "storage_backend=s3: part size of multipart uploads (>= 5 MiB)"),
      key("s3_max_attempts", &Config::s3_max_attempts,
          "storage_backend=s3: tries per request on network errors and 5xx, backing off from 100 ms"),
      // Sessions
      key("session_cache_ttl_ms", &Config::session_cache_ttl_ms,
          "how long a session's liveness is cached; a logout elsewhere or a deactivation takes effect within it"),
      key("refresh_reuse_grace_seconds", &Config::refresh_reuse_grace_seconds,
          "a refresh token presented again within this time of its rotation gets a new pair instead of "
          "revoking the session (client retries); 0 = never"),
      // Payments (issue 11)
      key("payments_currencies", &Config::payments_currencies, "ISO 4217 currencies wallets may hold"),
      key("payments_platform_fee_bps", &Config::payments_platform_fee_bps,
          "platform fee kept from each donation, in basis points (0..10000)"),
      key("payments_max_amount", &Config::payments_max_amount,
          "largest donation, refund or top-up in minor units of its currency"),
      key("payments_donation_message_max", &Config::payments_donation_message_max,
          "longest donation message in characters"),
      key("payments_refund_window_seconds", &Config::payments_refund_window_seconds,
          "how long the receiving streamer may refund a donation (admins: always)"),
      key("payments_idempotency_wait_ms", &Config::payments_idempotency_wait_ms,
          "a request repeating an Idempotency-Key waits this long for the first attempt, then gets 409"),
      key("payments_idempotency_retention_seconds", &Config::payments_idempotency_retention_seconds,
          "how long Idempotency-Key results are kept (at least 86400)"),
      key("payments_webhook_tolerance_seconds", &Config::payments_webhook_tolerance_seconds,
          "largest difference between a signed webhook's timestamp and now"),
      key("payments_sandbox_enabled", &Config::payments_sandbox_enabled,
          "offer the sandbox provider (test money, approve/decline page); refused in production"),
      key("payments_sandbox_webhook_secret", &Config::payments_sandbox_webhook_secret,
          "HMAC-SHA256 key of sandbox webhooks; empty = derived from jwt_secret"),
      key("payments_stripe_secret_key", &Config::payments_stripe_secret_key,
          "Stripe secret API key; the stripe provider is offered when it is set"),
      key("payments_stripe_webhook_secret", &Config::payments_stripe_webhook_secret,
          "signing secret (whsec_...) of the Stripe webhook endpoint /payments/webhook/stripe"),
      key("payments_stripe_api_base", &Config::payments_stripe_api_base, "Stripe API base URL"),
      key("payments_stripe_success_url", &Config::payments_stripe_success_url,
          "where Stripe Checkout sends the payer after paying; empty = this server's /"),
      key("payments_stripe_cancel_url", &Config::payments_stripe_cancel_url,
          "where Stripe Checkout sends a payer who cancels; empty = this server's /"),
      Key{"rate_limits", "request budgets by policy: {\"login\": {\"limit\": 10, \"window_seconds\": 60}, ...}",
          [](const Config& c) {
            json j = json::object();
            for (const auto& [name, r] : c.rate_limits) j[name] = {{"limit", r.limit}, {"window_seconds", r.window_seconds}};
            return j;
          },
          [](Config& c, const json& v) {
            for (const auto& [name, r] : v.items()) {
              auto& rule = c.rate_limits[name];
              rule.limit = r.at("limit").get<int>();
              if (r.contains("window_seconds")) rule.window_seconds = r.at("window_seconds").get<int>();
            }
          }},
  };
  return all;
}

std::string env_name(const std::string& key) {
  std::string out = "REELHUB_";
  for (char c : key) out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return out;
}

std::string flag_name(std::string key) {
  std::replace(key.begin(), key.end(), '_', '-');
  return "--" + key;
}

// Env and flag values are text; the default's JSON type says how to read them.
json coerce(const std::string& text, const json& like, const std::string& source) {
  try {
    if (like.is_string()) return text;
    if (like.is_boolean()) {
      if (text == "true" || text == "1" || text == "yes") return true;
      if (text == "false" || text == "0" || text == "no") return false;
      throw ConfigError(source + ": expected true or false, got '" + text + "'");
    }
    if (like.is_number()) {
      std::size_t used = 0;
      const long long v = std::stoll(text, &used);
      if (used != text.size()) throw std::invalid_argument(text);
      return v;
    }
    if (like.is_array() && (text.empty() || text.front() != '[')) {
      json arr = json::array();  // "a,b,c"
      std::size_t start = 0;
      while (start <= text.size()) {
        auto end = text.find(',', start);
        if (end == std::string::npos) end = text.size();
        auto item = text.substr(start, end - start);
        item.erase(0, item.find_first_not_of(' '));
        item.erase(item.find_last_not_of(' ') + 1);
        if (!item.empty()) arr.push_back(item);
        start = end + 1;
      }
      return arr;
    }
    return json::parse(text);
  } catch (const ConfigError&) {
    throw;
  } catch (const std::exception&) {
    throw ConfigError(source + ": cannot read '" + text + "' as " + std::string(like.type_name()));
  }
}

void apply(Config& config, const Key& k, const json& value, const std::string& source) {
  try {
    k.set(config, value);
  } catch (const std::exception& e) {
    throw ConfigError(source + ": invalid value for " + k.name + " (" + e.what() + ")");
  }
}

const Key* find_key(const std::string& name) {
  for (const auto& k : keys())
    if (k.name == name) return &k;
  return nullptr;
}

/// True for an address only this machine can reach (127.0.0.0/8, ::1).
bool is_loopback_address(const std::string& host) {
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(host, ec);
  return !ec && address.is_loopback();
}

void validate(const Config& c) {
  auto fail = [](const std::string& msg) { throw ConfigError(msg); };
  if (c.mode != "development" && c.mode != "production") fail("mode must be development or production");
  if (c.log_format != "text" && c.log_format != "json") fail("log_format must be text or json");
  if (c.http_port == 0) fail("http_port must be between 1 and 65535");
  if (c.srt_port == 0) fail("srt_port must be between 1 and 65535");
  if (c.media_root.empty()) fail("media_root must not be empty");
  if (c.jwt_secret.size() < 32) fail("jwt_secret must be at least 32 characters (set REELHUB_JWT_SECRET)");
  // The example secret is public (it is in the repository): anyone who can reach the server could
  // mint an admin token with it. It only serves a development server bound to loopback.
  if (c.jwt_secret == Config::example_jwt_secret && c.mode == "production")
    fail("jwt_secret is the example secret; set REELHUB_JWT_SECRET to a private value in production");
  if (c.jwt_secret == Config::example_jwt_secret && !is_loopback_address(c.http_host))
    fail("jwt_secret is the example secret from the repository, which anyone can use to mint tokens; it is "
         "accepted only with a loopback http_host: set REELHUB_JWT_SECRET to a private value (scripts/run "
         "generates one in var/jwt_secret)");
  if (c.access_token_ttl_seconds < 60) fail("access_token_ttl_seconds must be at least 60");
  if (c.refresh_token_ttl_seconds < c.access_token_ttl_seconds)
    fail("refresh_token_ttl_seconds must not be shorter than access_token_ttl_seconds");
  if (c.jwt_leeway_seconds < 0 || c.jwt_leeway_seconds > 300) fail("jwt_leeway_seconds must be 0..300");
  if (c.io_threads < 0 || c.io_threads > 256) fail("io_threads must be 0..256");
  if (c.recording_workers < 1 || c.recording_workers > 64) fail("recording_workers must be 1..64");
  if (c.live_retention_seconds < 0) fail("live_retention_seconds must not be negative");
  if (c.max_connections < 1) fail("max_connections must be positive");
  if (c.max_connections_per_ip < 1) fail("max_connections_per_ip must be positive");
  if (c.header_timeout_seconds < 1 || c.idle_timeout_seconds < 1 || c.body_timeout_seconds < 1)
    fail("timeouts must be at least 1 second");
  if (c.body_limit_bytes < 1024) fail("body_limit_bytes must be at least 1024");
  if (c.body_memory_budget_bytes < 2 * std::max(c.body_limit_bytes, c.avatar_limit_bytes))
    fail("body_memory_budget_bytes must hold at least two bodies of the larger of body_limit_bytes and "
         "avatar_limit_bytes");
  if (c.shutdown_grace_seconds < 0) fail("shutdown_grace_seconds must not be negative");
  // Object storage (issue 12)
  if (c.storage_backend != "local" && c.storage_backend != "s3") fail("storage_backend must be local or s3");
  if (c.storage_media_delivery != "redirect" && c.storage_media_delivery != "proxy")
    fail("storage_media_delivery must be redirect or proxy");
  if (c.storage_backend == "s3" &&
      (c.s3_endpoint.empty() || c.s3_bucket.empty() || c.s3_access_key.empty() || c.s3_secret_key.empty()))
    fail("storage_backend s3 needs s3_endpoint, s3_bucket, s3_access_key and s3_secret_key");
  if (c.s3_part_size_bytes < (std::size_t{5} << 20)) fail("s3_part_size_bytes must be at least 5 MiB (an S3 rule)");
  if (c.s3_multipart_threshold_bytes < c.s3_part_size_bytes)
    fail("s3_multipart_threshold_bytes must not be smaller than s3_part_size_bytes");
  if (c.s3_max_attempts < 1 || c.s3_max_attempts > 10) fail("s3_max_attempts must be 1..10");
  if (c.files_max_bytes < 1 || c.files_max_bytes > c.body_memory_budget_bytes / 2)
    fail("files_max_bytes must be positive and at most half of body_memory_budget_bytes");

  if (c.db_pool_size < 1 || c.db_pool_size > 512) fail("db_pool_size must be 1..512");
  if (c.db_wait_ms < 1) fail("db_wait_ms must be positive");
  if (c.ws_auth_timeout_ms < 100 || c.ws_ping_interval_ms < 100)
    fail("ws_auth_timeout_ms and ws_ping_interval_ms must be at least 100");
  if (c.ws_max_missed_pongs < 1) fail("ws_max_missed_pongs must be positive");
  if (c.ws_max_message_bytes < 1024) fail("ws_max_message_bytes must be at least 1024");
  if (c.ws_queue_max_messages < 1 || c.ws_queue_max_bytes < 1024)
    fail("ws_queue_max_messages must be positive and ws_queue_max_bytes at least 1024");
  // Payments
  if (c.payments_currencies.empty()) fail("payments_currencies must list at least one currency");
  for (const auto& code : c.payments_currencies)
    if (code.size() != 3 || !std::all_of(code.begin(), code.end(), [](char ch) { return ch >= 'A' && ch <= 'Z'; }))
      fail("payments_currencies must be ISO 4217 codes (three upper-case letters): " + code);
  if (c.payments_platform_fee_bps < 0 || c.payments_platform_fee_bps > 10000)
    fail("payments_platform_fee_bps must be 0..10000");
  // Fee shares are computed as fee * part / amount in 64 bits.
  if (c.payments_max_amount < 1 || c.payments_max_amount > 1'000'000'000)
    fail("payments_max_amount must be 1..1000000000");
  if (c.payments_donation_message_max < 0) fail("payments_donation_message_max must not be negative");
  if (c.payments_refund_window_seconds < 0) fail("payments_refund_window_seconds must not be negative");
  if (c.payments_idempotency_wait_ms < 0) fail("payments_idempotency_wait_ms must not be negative");
  if (c.payments_idempotency_retention_seconds < 24 * 3600)
    fail("payments_idempotency_retention_seconds must be at least 86400 (clients retry for a day)");
  if (c.payments_webhook_tolerance_seconds < 1) fail("payments_webhook_tolerance_seconds must be positive");
  if (!c.payments_stripe_secret_key.empty() && c.payments_stripe_webhook_secret.empty())
    fail("payments_stripe_webhook_secret must be set with payments_stripe_secret_key (webhooks settle top-ups)");
  if (c.payments_sandbox_enabled && c.mode == "production")
    fail("payments_sandbox_enabled credits wallets with test money; it is refused in production mode");
  if (c.ws_max_subscriptions < 1) fail("ws_max_subscriptions must be positive");
  if (c.ws_history_size < 0 || c.ws_history_ttl_seconds < 1)
    fail("ws_history_size must not be negative and ws_history_ttl_seconds must be positive");
  if (c.ws_heartbeat_seconds < 1) fail("ws_heartbeat_seconds must be positive");
  if (c.ws_request_rate < 1) fail("ws_request_rate must be positive");
  if (c.room_heartbeat_ms < 100) fail("room_heartbeat_ms must be at least 100");
  if (c.ws_departure_grace_ms < 0) fail("ws_departure_grace_ms must not be negative");
  if (c.live_segment_ms < 500 || c.live_segment_ms > 30000) fail("live_segment_ms must be 500..30000");
  if (c.live_part_ms < 50 || c.live_part_ms * 2 > c.live_segment_ms)
    fail("live_part_ms must be 50..half of live_segment_ms");
  if (c.live_window_segments < 2 || c.live_window_segments > 100) fail("live_window_segments must be 2..100");
  if (c.live_stall_seconds < 1) fail("live_stall_seconds must be positive");
  if (c.live_waiting_timeout_seconds < 1) fail("live_waiting_timeout_seconds must be positive");
  // Live limits
  if (c.live_max_segment_bytes < (std::size_t{1} << 20)) fail("live_max_segment_bytes must be at least 1048576");
  if (c.live_max_bitrate_kbps < 100) fail("live_max_bitrate_kbps must be at least 100");
  if (c.live_max_streams_per_user < 1) fail("live_max_streams_per_user must be positive");
  if (c.live_max_streams < 1) fail("live_max_streams must be positive");
  if (c.upload_max_bytes < 1024) fail("upload_max_bytes must be at least 1024");
  if (c.transcode_workers < 0 || c.transcode_workers > 64) fail("transcode_workers must be 0..64");
  if (c.transcode_threads < 1 || c.transcode_threads > 64) fail("transcode_threads must be 1..64");
  if (c.transcode_nice < 0 || c.transcode_nice > 19) fail("transcode_nice must be 0..19");
  if (c.transcode_lease_seconds < 2) fail("transcode_lease_seconds must be at least 2");
  if (c.transcode_segment_seconds < 2 || c.transcode_segment_seconds > 6) fail("transcode_segment_seconds must be 2..6");
  if (c.transcode_preset.empty()) fail("transcode_preset must not be empty");
  // Upload quotas
  if (c.upload_quota_bytes < 1) fail("upload_quota_bytes must be at least 1");
  if (c.upload_max_duration_seconds < 1) fail("upload_max_duration_seconds must be at least 1");
  if (c.upload_max_pixels < 1) fail("upload_max_pixels must be at least 1");
  if (c.janitor_interval_seconds < 1) fail("janitor_interval_seconds must be positive");
  if (c.janitor_min_age_seconds < 60) fail("janitor_min_age_seconds must be at least 60");
  if (c.session_retention_seconds < 0) fail("session_retention_seconds must not be negative");
  // Sessions
  if (c.session_cache_ttl_ms < 0 || c.session_cache_ttl_ms > 5000) fail("session_cache_ttl_ms must be 0..5000");
  if (c.refresh_reuse_grace_seconds < 0 || c.refresh_reuse_grace_seconds > 60)
    fail("refresh_reuse_grace_seconds must be 0..60");
  for (const auto& [name, r] : c.rate_limits)
    if (r.limit < 0 || r.window_seconds < 1) fail("rate_limits." + name + ": limit >= 0 and window_seconds >= 1");
}

}  // namespace

std::map<std::string, std::string> current_environment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string entry(*e);
    const auto eq = entry.find('=');
    if (eq != std::string::npos) env[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  return env;
}

CommandLine load_config(int argc, const char* const* argv, const std::map<std::string, std::string>& env) {
  CommandLine cl;
  std::vector<std::pair<std::string, std::string>> flags;  // key, value
  std::string config_path;
  bool config_explicit = false;
  if (auto it = env.find("REELHUB_CONFIG"); it != env.end()) {
    config_path = it->second;
    config_explicit = true;
  }
  bool command_seen = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h" || arg == "help") {
      cl.command = "help";
      return cl;
    }
    if (arg.rfind("--", 0) != 0) {
      if (command_seen || (arg != "serve" && arg != "migrate")) throw ConfigError("unknown command '" + arg + "'");
      cl.command = arg;
      command_seen = true;
      continue;
    }
    std::string name = arg.substr(2), value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      throw ConfigError("flag --" + name + " needs a value");
    }
    std::replace(name.begin(), name.end(), '-', '_');
    if (name == "config") {
      config_path = value;
      config_explicit = true;
      continue;
    }
    if (!find_key(name)) throw ConfigError("unknown flag --" + arg.substr(2, arg.find('=') - 2));
    flags.emplace_back(name, value);
  }

  Config& config = cl.config;
  if (config_path.empty() && std::filesystem::exists("config/reelhub.example.json"))
    config_path = "config/reelhub.example.json";
  if (!config_path.empty()) {
    std::ifstream in(config_path);
    if (!in) {
      if (config_explicit) throw ConfigError("cannot read config file " + config_path);
    } else {
      json file = json::parse(in, nullptr, false, true);
      if (file.is_discarded() || !file.is_object()) throw ConfigError(config_path + ": not a JSON object");
      for (const auto& [name, value] : file.items()) {
        const Key* k = find_key(name);
        if (!k) throw ConfigError(config_path + ": unknown key '" + name + "'");
        apply(config, *k, value, config_path);
      }
    }
  }
  if (auto it = env.find("DATABASE_URL"); it != env.end() && !it->second.empty()) config.database_url = it->second;
  for (const auto& k : keys()) {
    const auto name = env_name(k.name);
    if (auto it = env.find(name); it != env.end()) apply(config, k, coerce(it->second, k.get(config), name), name);
  }
  for (const auto& [name, value] : flags) {
    const Key& k = *find_key(name);
    apply(config, k, coerce(value, k.get(config), flag_name(name)), flag_name(name));
  }
  validate(config);
  if (config.database_url.empty()) throw ConfigError("database_url is not set (set DATABASE_URL)");
  return cl;
}

std::string help_text() {
  std::string out =
      "Usage: reelhub [serve|migrate] [--config FILE] [--key value ...]\n"
      "       reelhub --help\n\n"
      "Commands:\n"
      "  serve     apply pending migrations (unless migrate_on_start=false), then serve HTTP (default)\n"
      "  migrate   apply pending migrations and exit\n\n"
      "Configuration, lowest precedence first: the config file (--config, REELHUB_CONFIG, or\n"
      "config/reelhub.example.json when present), then environment REELHUB_<KEY>, then flags --<key>.\n\n"
      "Keys (flag / environment: description [default]):\n";
  const Config defaults;
  for (const auto& k : keys()) {
    out += "  " + flag_name(k.name) + " / " + env_name(k.name) + "\n      " + k.help + " [" + k.get(defaults).dump() +
           "]\n";
  }
  return out;
}

}  // namespace reelhub
