#include "routes.hpp"

#include "dto.hpp"
#include "modules/kit/context.hpp"
#include "reelhub/core/error.hpp"
#include "reelhub/core/validation.hpp"
#include "reelhub/media/live_playlist.hpp"
#include "reelhub/media/ll_playlist.hpp"

namespace reelhub::streams {
namespace {

using http::Request;
using http::Response;

/// The stream endpoints, sharing one service.
class Handlers {
 public:
  Handlers(StreamService& service, std::uint16_t srt_port) : service_(service), srt_port_(srt_port) {}

  Response create(Request& req);
  Response start(Request& req);
  Response stop(Request& req);
  Response get_one(Request& req);
  Response list(Request& req);
  Response delete_one(Request& req);
  Response live(Request& req);
  Response status(Request& req);
  Response playlist(Request& req);
  Response low_latency_playlist(Request& req);
  Response segment(Request& req);
  Response low_latency_media(const std::string& id, const std::string& file_name);

 private:
  StreamService& service_;
  std::uint16_t srt_port_;
};

}  // namespace

void register_routes(const modules::Context& ctx, StreamService& service) {
  ctx.hub.register_topic("stream", [&service](const auth::AuthUser& user, const std::string& id) {
    return service.may_subscribe(user, id);
  });
  // Live chat over the WebSocket: "stream.message" {stream_id, text} -> {stream_id, message}.
  ctx.hub.register_request("stream.message", [&service](const auth::AuthUser& user, const nlohmann::json& message) {
    Validator v(message);
    const auto stream_id = v.required_string("stream_id", 1, 64);
    // Length and characters are the service's rules (in code points); here a bound on bytes.
    const auto text = v.required_string("text", 1, 4 * StreamService::kMaxChatMessage);
    v.throw_if_failed();
    return nlohmann::json{{"stream_id", stream_id}, {"message", service.send_chat(user, stream_id, text)}};
  });
  auto bind = http::bind_members(std::make_shared<Handlers>(service, ctx.config.srt_port));
  using http::Access;
  using auth::Role;
  const http::RouteOptions user{.access = Access::user};
  const http::RouteOptions streamer{.access = Access::user, .min_role = Role::streamer};
  const http::RouteOptions control{.access = Access::user, .min_role = Role::streamer, .rate_policy = "live"};
  const http::RouteOptions anyone{};
  // A player polls the playlist every couple of seconds: not rate limited, answered from memory
  // on the io thread (no database, no file read beyond a stat).
  const http::RouteOptions media{.rate_policy = "", .blocking = false, .public_media = true};

  http::Router& r = ctx.router;
  r.add("POST", "/api/streams", bind(&Handlers::create), streamer);
  r.add("GET", "/api/streams", bind(&Handlers::list), user);
  r.add("GET", "/api/streams/{id}", bind(&Handlers::get_one), user);
  r.add("DELETE", "/api/streams/{id}", bind(&Handlers::delete_one), streamer);
  r.add("POST", "/api/streams/{id}/start", bind(&Handlers::start), control);
  r.add("POST", "/api/streams/{id}/stop", bind(&Handlers::stop), control);
  r.add("GET", "/live/streams", bind(&Handlers::live), anyone);
  r.add("GET", "/stream/{id}/status", bind(&Handlers::status), anyone);
  r.add("GET", "/hls/{id}/stream.m3u8", bind(&Handlers::playlist), media);
  // A blocking reload waits on the io thread as a timer (DeferredResponse), never on a worker.
  r.add("GET", "/hls/{id}/ll.m3u8", bind(&Handlers::low_latency_playlist), media);
  r.add("GET", "/hls/{id}/{segment}", bind(&Handlers::segment), media);
}

namespace {

Response Handlers::create(Request& req) {
  const auto body = req.json_body();
  Validator v(body);
  NewStream stream;
  stream.name = v.required_string("name", 1, StreamService::kMaxName);
  stream.title = v.optional_string("title", 1, StreamService::kMaxTitle).value_or("");
  stream.description = v.optional_string("description", 0, StreamService::kMaxDescription).value_or("");
  v.throw_if_failed();
  const StreamRow row = service_.create(req.auth(), stream);
  return Response::json(201, {{"stream_id", row.id},
                              {"name", row.name},
                              {"title", row.title},
                              {"description", row.description},
                              {"user_id", row.user_id},
                              {"username", req.auth().username},
                              {"status", status_name(row.status)},
                              {"created_at", row.created_at}});
}

Response Handlers::start(Request& req) {
  const StreamView v = service_.start(req.auth(), req.param("id"));
  return Response::json(200, {{"stream_id", v.row.id},
                              {"status", status_name(v.row.status)},
                              {"port", srt_port_},
                              {"srt_url", v.srt_url.value_or("")},
                              {"hls_url", hls_url(v.row.id)},
                              {"hls_ll_url", hls_ll_url(v.row.id)},
                              {"message", "Stream started, waiting for connection"}});
}

Response Handlers::stop(Request& req) {
  const StreamView v = service_.stop(req.auth(), req.param("id"));
  return Response::json(200, {{"stream_id", v.row.id},
                              {"status", status_name(v.row.status)},
                              {"user_id", v.row.user_id},
                              {"username", v.username},
                              {"message", "Stream stopped, VOD processing started"}});
}

Response Handlers::get_one(Request& req) {
  return Response::json(200, stream_json(service_.get(req.auth(), req.param("id")), srt_port_));
}

Response Handlers::list(Request& req) {
  std::optional<StreamStatus> status;
  if (const auto s = req.query_param("status")) {
    status = parse_status(*s);
    if (!status)
      throw ApiError(ErrorCode::validation_failed, "Invalid query",
                     {{"status", {"must be one of created, waiting, active, stopped"}}});
  }
  const auto limit = static_cast<int>(http::query_int(req, "limit", 50, 1, 100));
  const auto offset = static_cast<int>(http::query_int(req, "offset", 0, 0, 1'000'000));
  return Response::json(200, streams_page_json(service_.list(req.auth(), status, limit, offset), srt_port_));
}

Response Handlers::delete_one(Request& req) {
  service_.remove(req.auth(), req.param("id"));
  return Response::json(200, {{"message", "Stream deleted successfully"}, {"stream_id", req.param("id")}});
}

Response Handlers::live(Request& req) {
  const auto limit = static_cast<int>(http::query_int(req, "limit", 50, 1, 100));
  const auto offset = static_cast<int>(http::query_int(req, "offset", 0, 0, 1'000'000));
  return Response::json(200, streams_page_json(service_.live(limit, offset), srt_port_));
}

Response Handlers::status(Request& req) { return Response::json(200, status_json(service_.status(req.param("id")))); }

/// A segment, part or init segment never changes once listed: players and CDNs may keep it.
constexpr const char* kImmutable = "public, max-age=86400, immutable";
/// A playlist changes with every segment (part): a CDN may hold it for a second, no longer.
constexpr const char* kPlaylistCaching = "public, max-age=1";

Response playlist_response(std::string text, std::string cache_control) {
  Response res;
  res.body = std::move(text);
  res.headers["Content-Type"] = "application/vnd.apple.mpegurl";
  res.headers["Cache-Control"] = std::move(cache_control);
  return res;
}

Response Handlers::playlist(Request& req) {
  return playlist_response(service_.playlist(req.param("id"), req.remote_ip),  // one viewer per address
                           kPlaylistCaching);
}

Response Handlers::low_latency_playlist(Request& req) {
  auto reload = std::make_shared<const LowLatencyReload>(service_.low_latency_reload(
      req.param("id"), req.remote_ip, req.query_param("_HLS_msn"), req.query_param("_HLS_part"),
      req.query_param("_HLS_skip")));
  // A blocking reload's URL names the state it waited for, and its answer stays a right answer
  // for that URL: a CDN may keep it for as long as the window lists that state (six target
  // durations), so many viewers asking for the same part cost the origin one request.
  const std::string caching =
      reload->request.msn ? "public, max-age=" + std::to_string(6 * std::chrono::ceil<std::chrono::seconds>(
                                                                        reload->channel->low_latency().target_duration())
                                                                        .count())
                          : kPlaylistCaching;
  if (auto text = service_.low_latency_playlist(*reload)) return playlist_response(std::move(*text), caching);
  Response res;
  res.deferred = std::make_shared<http::DeferredResponse>(http::DeferredResponse{
      .changes = reload->channel->low_latency().listing_changes(),
      .poll = [this, reload, caching]() -> std::optional<Response> {
        // Runs on the io thread, outside the pipeline's error mapping: map errors here.
        try {
          auto text = service_.low_latency_playlist(*reload);
          if (!text) return std::nullopt;
          return playlist_response(std::move(*text), caching);
        } catch (const ApiError& e) {
          return http::error_response(e);
        }
      },
      .deadline = reload->deadline,
      .expire = [] {
        return http::error_response(
            ApiError(ErrorCode::unavailable, "The part asked for was not produced in time").with_retry_after(1));
      }});
  return res;
}

Response Handlers::segment(Request& req) {
  const std::string& file_name = req.param("segment");
  // Only the names the playlists list are served, so no path is ever built from the request.
  const auto n = media::segment_number(file_name);
  if (!n) return low_latency_media(req.param("id"), file_name);
  const SegmentSource source = service_.segment(req.param("id"), static_cast<std::uint64_t>(*n));
  if (!source.data) {
    try {
      return Response::file_of(req, source.file, "video/mp2t", kImmutable);
    } catch (const ApiError&) {
      throw ApiError(ErrorCode::not_found, "Segment not found");
    }
  }
  Response res;
  res.shared_body = std::move(source.data);  // every viewer sends the same bytes, none copies them
  res.headers["Content-Type"] = "video/mp2t";
  res.headers["Cache-Control"] = kImmutable;
  return res;
}

Response Handlers::low_latency_media(const std::string& id, const std::string& file_name) {
  LowLatencyMedia found = service_.low_latency_media(id, file_name);
  Response res;
  res.headers["Content-Type"] = "video/mp4";
  res.headers["Cache-Control"] = kImmutable;
  if (found.data) {
    res.shared_body = std::move(found.data);
    return res;
  }
  // The part being written (or hinted next): its bytes go out as each frame is muxed.
  const auto channel = found.writing;
  res.growing = std::make_shared<http::GrowingBody>(http::GrowingBody{
      .changes = channel->low_latency().byte_changes(),
      .read = [channel, sequence = found.sequence, part = found.part](std::size_t offset) {
        auto bytes = channel->low_latency().part_bytes(sequence, part, offset);
        return http::GrowingChunk{std::move(bytes.bytes), bytes.complete, bytes.gone};
      },
      .idle_timeout = 3 * channel->low_latency().target_duration()});
  return res;
}

}  // namespace
}  // namespace reelhub::streams
