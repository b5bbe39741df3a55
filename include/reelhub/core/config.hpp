#pragma once
// Process configuration: config file < REELHUB_* environment < command-line flags.
// Every key is declared once in config.cpp's key table, which drives all three sources,
// validation and `reelhub --help`.

#include <chrono>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace reelhub {

/// A request budget: `limit` requests per `window_seconds`.
struct RateRule {
  int limit = 0;
  int window_seconds = 60;
};

struct Config {
  // Where and how
  std::string mode = "development";  // development | production
  std::string database_url;
  std::string http_host = "0.0.0.0";
  std::uint16_t http_port = 8080;
  std::uint16_t srt_port = 9000;
  std::string media_root = "var/media";
  std::string web_root = "web/dist";  // the built web client, served at /
  std::string public_host = "localhost";
  std::string log_format = "text";  // text | json
  std::string log_level = "info";
  bool migrate_on_start = true;

  // Security
  std::string jwt_secret;
  int access_token_ttl_seconds = 3600;
  int refresh_token_ttl_seconds = 30 * 24 * 3600;
  int jwt_leeway_seconds = 30;
  std::vector<std::string> cors_origins;  // "*" allows any origin
  std::vector<std::string> trusted_proxies;  // our proxies: X-Forwarded-For is believed from them only

  // Server limits
  int io_threads = 0;  // 0 = one per core
  int max_connections = 10000;
  int max_connections_per_ip = 256;  // per client address (IPv6: per /64); trusted proxies exempt
  int header_timeout_seconds = 10;
  int idle_timeout_seconds = 60;
  int body_timeout_seconds = 60;
  std::size_t body_limit_bytes = 1 << 20;
  std::size_t avatar_limit_bytes = 5 << 20;
  std::size_t body_memory_budget_bytes = std::size_t{256} << 20;  // request bodies in memory at once, all clients
  int shutdown_grace_seconds = 30;

  // Database
  int db_pool_size = 8;
  int db_wait_ms = 2000;
  int db_statement_timeout_ms = 10000;

  // WebSocket hub (GET /ws)
  int ws_auth_timeout_ms = 10000;          // to authenticate after connecting, else close 4401
  int ws_ping_interval_ms = 20000;         // server pings this often
  int ws_max_missed_pongs = 2;             // unanswered pings before close 4408
  int ws_max_message_bytes = 64 * 1024;    // larger client messages close with 1009
  int ws_queue_max_messages = 1024;        // per-connection send queue; overflow closes with 1008
  int ws_queue_max_bytes = 1 << 20;
  int ws_max_subscriptions = 100;          // topics per connection
  int ws_history_size = 128;               // events per topic kept for recovery
  int ws_history_ttl_seconds = 300;        // how long a topic without subscribers keeps them
  int ws_heartbeat_seconds = 5;            // presence heartbeat; 3 missed = instance gone

  // WebSocket client requests and watch-together rooms (docs/realtime.md)
  int ws_request_rate = 20;                // time.sync and module requests per second per connection (also the burst)
  int room_heartbeat_ms = 1000;            // a playing room repeats its playback state this often
  int ws_departure_grace_ms = 30000;       // a closed connection's user leaves its rooms after this, unless back

  // Live streaming (SRT ingest → HLS)
  std::string srt_host = "0.0.0.0";        // address the SRT listener binds
  int live_segment_ms = 1000;              // target segment duration; cuts happen on keyframes
  int live_part_ms = 200;                  // LL-HLS partial segment target; cuts on any frame
  int live_window_segments = 6;            // segments listed in the live playlist
  int live_stall_seconds = 5;              // no data from a publisher this long: it is gone
  int live_waiting_timeout_seconds = 600;  // started but no publisher this long: stopped
  // Live limits: what one publisher, one user and this server may
  // cost. Segment and channel bytes fit a live_max_bitrate_kbps publisher whose keyframes are up
  // to 10 segment durations apart (25 Mbit/s x 20 s = 62.5 MB).
  std::size_t live_max_segment_bytes = std::size_t{64} << 20;  // open segment; past it: dropped
  std::size_t live_max_channel_bytes = std::size_t{64} << 20;  // finished segments in memory per stream
  int live_max_bitrate_kbps = 25000;     // MPEG-TS received, 4 s average; above it: dropped
  int live_max_streams_per_user = 2;     // started streams per owner; start answers 409 past it
  int live_max_streams = 50;             // started streams on this server; start answers 503 past it
  // Recordings (VOD of stopped live streams)
  int recording_workers = 1;        // threads remuxing recordings, at lower CPU priority than live
  int live_retention_seconds = 0;   // live segments kept after their recording is ready; 0 = none
  // Uploaded videos (POST /videos/upload and the transcode workers)
  std::size_t upload_max_bytes = std::size_t{2} << 30;  // 2 GiB
  int transcode_workers = 1;          // concurrent transcodes in this process
  int transcode_threads = 1;          // libav threads per decoder and per x264 encoder
  int transcode_nice = 10;            // nice value of the worker threads: live ingest comes first
  int transcode_lease_seconds = 60;   // a job whose worker stops renewing it is resumed after this
  int transcode_segment_seconds = 4;  // HLS segment length and GOP
  std::string transcode_preset = "veryfast";
  // Upload quotas: what one user may store and how big one source may be.
  std::uint64_t upload_quota_bytes = std::uint64_t{10} << 30;  // 10 GiB per user, sources then renditions
  int upload_max_duration_seconds = 4 * 60 * 60;                // 4 h of video per upload
  std::int64_t upload_max_pixels = std::int64_t{3840} * 2160;   // width x height as displayed (4K UHD)

  // Janitor: leftovers of crashes and failed cleanups
  int janitor_interval_seconds = 600;     // how often it sweeps
  int janitor_min_age_seconds = 3600;     // files and directories younger than this are never swept
  int session_retention_seconds = 7 * 24 * 3600;  // ended sessions are kept this long, then purged

  // Object storage (issue 12): where stored objects live and how presigned URLs are made.
  std::string storage_backend = "local";  // local (files under media_root) | s3
  std::string storage_url_base;           // put before local presigned paths; "" = relative URLs
  std::string storage_url_secret;         // HMAC secret of local presigned URLs; "" = derived from jwt_secret
  // storage_backend = s3: how HLS, MP4, images and avatars reach players: a 302 to a presigned
  // URL of the object (playlists are always proxied) | every byte through Reelhub.
  std::string storage_media_delivery = "redirect";  // redirect | proxy
  std::size_t files_max_bytes = std::size_t{16} << 20;  // POST /files/upload (seed 001: 16 MB)
  // storage_backend = s3: an S3-compatible service
  std::string s3_endpoint;  // http(s)://host[:port]
  std::string s3_region = "us-east-1";
  std::string s3_bucket;
  std::string s3_access_key;
  std::string s3_secret_key;
  bool s3_path_style = true;  // endpoint/bucket/key (MinIO, s3rver) rather than bucket.endpoint/key (AWS)
  std::size_t s3_multipart_threshold_bytes = std::size_t{16} << 20;  // larger files: multipart upload
  std::size_t s3_part_size_bytes = std::size_t{8} << 20;
  int s3_max_attempts = 4;  // per request, with exponential backoff from 100 ms

  // Sessions
  int session_cache_ttl_ms = 5000;       // how long "this session is live" is believed without a read
  int refresh_reuse_grace_seconds = 10;  // a repeated refresh this soon is a retry, not reuse

  // Payments (issue 11). Amounts are integer minor units of their currency (cents for USD).
  std::vector<std::string> payments_currencies = {"USD", "EUR"};  // ISO 4217 codes wallets may hold
  int payments_platform_fee_bps = 1000;             // platform's share of a donation, basis points (10 %)
  std::int64_t payments_max_amount = 1000000;       // largest donation, refund or top-up (10,000.00)
  int payments_donation_message_max = 200;          // characters of a donation's message
  int payments_refund_window_seconds = 7 * 24 * 3600;  // a streamer may refund a donation this long
  int payments_idempotency_wait_ms = 5000;          // a retry waits this long for its first attempt, then 409
  int payments_idempotency_retention_seconds = 24 * 3600;  // Idempotency-Key results kept (>= 24 h)
  int payments_webhook_tolerance_seconds = 300;     // signed webhook timestamps older or newer: refused
  bool payments_sandbox_enabled = false;            // the sandbox provider (test money); never in production
  std::string payments_sandbox_webhook_secret;      // HMAC key of sandbox webhooks; empty = derived from jwt_secret
  // Stripe: offered when payments_stripe_secret_key is set.
  std::string payments_stripe_secret_key;           // sk_live_... / sk_test_...
  std::string payments_stripe_webhook_secret;       // whsec_... of the webhook endpoint
  std::string payments_stripe_api_base = "https://api.stripe.com";
  std::string payments_stripe_success_url;          // where Checkout returns the payer; empty = this server's /
  std::string payments_stripe_cancel_url;

  // Rate limits by policy name: general, login, register, upload, live, ws_connect
  std::map<std::string, RateRule> rate_limits = {
      {"general", {1000, 60}}, {"login", {10, 60}}, {"register", {10, 60}},
      {"upload", {5, 60}},     {"live", {10, 60}},  {"ws_connect", {5, 60}},
      {"chat_send", {20, 10}},
  };

  /// The secret shipped in config/reelhub.example.json; refused in production mode.
  static constexpr const char* example_jwt_secret = "change-me-in-production-0123456789abcdef";
};

/// Thrown for an invalid configuration; the message names the key and the source.
struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Result of parsing the command line.
struct CommandLine {
  std::string command = "serve";  // serve | migrate | help
  Config config;
};

/// Loads configuration. `env` is the process environment (tests pass their own).
/// Reads the file named by --config / REELHUB_CONFIG, else config/reelhub.example.json when
/// present in the working directory. Throws ConfigError with a clear message.
CommandLine load_config(int argc, const char* const* argv, const std::map<std::string, std::string>& env);
std::map<std::string, std::string> current_environment();
std::string help_text();

}  // namespace reelhub
