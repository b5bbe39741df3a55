#pragma once
// Plain request/response values handed to handlers. Beast stays inside the server's
// translation unit, so modules and their tests never compile it.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "reelhub/auth/identity.hpp"
#include "reelhub/core/change_notifier.hpp"

namespace reelhub {
class ApiError;
}

namespace reelhub::http {

/// Case-insensitive header map (HTTP field names are case-insensitive).
struct HeaderLess {
  bool operator()(std::string_view a, std::string_view b) const;
};
using Headers = std::map<std::string, std::string, HeaderLess>;

struct Request {
  std::string method;  // upper case, e.g. "GET"
  std::string target;  // raw request target
  std::string path;    // percent-decoded path without the query
  std::map<std::string, std::string> query;   // decoded query parameters (last wins)
  std::map<std::string, std::string> params;  // path parameters from the route pattern
  Headers headers;
  std::string body;
  /// For RouteOptions::body_to_file routes: the body as the server streamed it to disk (`body`
  /// stays empty). The server removes the file after the response; a handler keeping the bytes
  /// moves or copies them elsewhere.
  std::filesystem::path body_file;
  std::string remote_ip;
  std::string request_id;
  std::optional<auth::AuthUser> user;

  std::string header(const std::string& name) const;
  std::optional<std::string> query_param(const std::string& name) const;
  /// Path parameter by name; the router guarantees it exists for the matched route.
  const std::string& param(const std::string& name) const;
  /// Parses the body as a JSON object; throws ApiError(bad_request) when malformed or not an object.
  nlohmann::json json_body() const;
  /// The authenticated user; throws ApiError(unauthorized) when absent.
  const auth::AuthUser& auth() const;
};

/// The inclusive byte range [first, last] of a Range header.
struct ByteRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;
};
/// One range of "bytes=a-b", "bytes=a-" or "bytes=-n" of a body of `size` bytes. nullopt: header
/// ignored (multi-range or another unit, as RFC 9110 allows); throws ApiError(range_not_satisfiable)
/// when the range cannot be satisfied.
std::optional<ByteRange> parse_range(std::string_view header, std::uint64_t size);

/// A byte range of a file sent as the body (HLS segments, recordings, avatars).
struct FileBody {
  std::filesystem::path path;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  /// The file as the handler's stat saw it (0 when unknown): the server sends from a descriptor it
  /// holds open only while it is still this very file, so a replaced or rewritten one is reopened.
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  std::uint64_t size = 0;
  std::uint64_t mtime_ns = 0;
};

struct DeferredResponse;
struct GrowingBody;

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  std::optional<FileBody> file;  // when set, sent instead of `body`
  /// When set, sent instead of `body` without a copy: bytes many responses share (live segments).
  std::shared_ptr<const std::string> shared_body;
  /// When set, the answer is not known yet: the server waits for it without a thread.
  std::shared_ptr<DeferredResponse> deferred;
  /// When set, the body is sent chunked as it is produced (status and headers go out first).
  std::shared_ptr<GrowingBody> growing;

  static Response json(int status, const nlohmann::json& body);
  static Response no_content();
  /// Serves a file (or the requested Range of it) with ETag / If-None-Match handling.
  /// Throws ApiError(not_found) when the file does not exist.
  static Response file_of(const Request& req, const std::filesystem::path& path, std::string content_type,
                          std::string cache_control);
};

/// How to answer a GET of a cacheable body of `size` bytes (a file, a stored object).
struct MediaAnswer {
  Response response;               // status and headers; the caller adds the body when has_body
  bool has_body = false;           // false for 304 and 416
  std::optional<ByteRange> range;  // set for 206: the bytes to send
};
/// ETag (`etag`, quoted), Cache-Control and Accept-Ranges on every answer; 304 when If-None-Match
/// names `etag`; else Content-Type and, for one satisfiable range (honouring If-Range), 206 with
/// Content-Range — a range longer than `max_range` bytes is cut to it — or 416 for an
/// unsatisfiable one.
MediaAnswer answer_media(const Request& req, const std::string& etag, std::uint64_t size, std::string content_type,
                         std::string cache_control, std::uint64_t max_range = UINT64_MAX);

/// A response that waits for something to happen (an LL-HLS blocking playlist reload): the server
/// calls `poll` now and after every notification of `changes`, on its io thread, until it returns
/// a response; at `deadline` it sends `expire()` instead. A request waiting costs a timer.
struct DeferredResponse {
  std::shared_ptr<ChangeNotifier> changes;
  std::function<std::optional<Response>()> poll;
  std::chrono::steady_clock::time_point deadline;
  std::function<Response()> expire;
};

/// What a growing body has past an offset.
struct GrowingChunk {
  std::string bytes;      // new bytes from the offset asked for (may be empty)
  bool complete = false;  // nothing follows `bytes`
  bool failed = false;    // it will never complete (its producer went away): the response is cut off
};

/// A body written while it is being sent (an LL-HLS part a player asked for before it existed):
/// the server sends what `read(offset)` returns as chunks, waking on `changes`, until it is
/// complete. A body that gets no new byte for `idle_timeout` is cut off (the connection closes,
/// so the client sees a truncated response, never a short one taken as whole).
struct GrowingBody {
  std::shared_ptr<ChangeNotifier> changes;
  std::function<GrowingChunk(std::size_t offset)> read;
  std::chrono::milliseconds idle_timeout{10000};
};

/// The one mapping from ApiError to the wire: status, Retry-After and the JSON error body
/// {"error","message","code"[,"details"][,"retry_after"][,"reason"]}.
Response error_response(const ApiError& e);

/// Integer query parameter within [min, max], `fallback` when absent; 422 otherwise.
long long query_int(const Request& req, const std::string& name, long long fallback, long long min, long long max);

}  // namespace reelhub::http
