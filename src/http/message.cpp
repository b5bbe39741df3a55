#include "reelhub/http/message.hpp"

#include <strings.h>
#include <sys/stat.h>

#include <charconv>

#include "reelhub/core/error.hpp"

namespace reelhub::http {

bool HeaderLess::operator()(std::string_view a, std::string_view b) const {
  const auto n = std::min(a.size(), b.size());
  const int c = strncasecmp(a.data(), b.data(), n);
  return c < 0 || (c == 0 && a.size() < b.size());
}

std::string Request::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string{} : it->second;
}

std::optional<std::string> Request::query_param(const std::string& name) const {
  auto it = query.find(name);
  if (it == query.end()) return std::nullopt;
  return it->second;
}

const std::string& Request::param(const std::string& name) const { return params.at(name); }

nlohmann::json Request::json_body() const {
  if (body.empty()) throw ApiError(ErrorCode::bad_request, "Request body must be a JSON object");
  auto parsed = nlohmann::json::parse(body, nullptr, false);
  if (parsed.is_discarded()) throw ApiError(ErrorCode::bad_request, "Malformed JSON in request body");
  if (!parsed.is_object()) throw ApiError(ErrorCode::bad_request, "Request body must be a JSON object");
  return parsed;
}

const auth::AuthUser& Request::auth() const {
  if (!user) throw ApiError(ErrorCode::unauthorized, "Authentication required");
  return *user;
}

Response Response::json(int status, const nlohmann::json& body) {
  Response r;
  r.status = status;
  r.headers["Content-Type"] = "application/json; charset=utf-8";
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

Response error_response(const ApiError& e) {
  nlohmann::json body = {{"error", error_title(e.code())}, {"message", e.what()}, {"code", http_status(e.code())}};
  if (!e.details().empty()) body["details"] = e.details();
  if (e.retry_after() > 0) body["retry_after"] = e.retry_after();
  if (!e.reason().empty()) body["reason"] = e.reason();
  Response r = Response::json(http_status(e.code()), body);
  if (e.retry_after() > 0) r.headers["Retry-After"] = std::to_string(e.retry_after());
  return r;
}

Response Response::no_content() {
  Response r;
  r.status = 204;
  return r;
}

namespace {

std::optional<std::uint64_t> parse_u64(std::string_view s) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

}  // namespace

std::optional<ByteRange> parse_range(std::string_view header, std::uint64_t size) {
  constexpr std::string_view prefix = "bytes=";
  if (header.substr(0, prefix.size()) != prefix) return std::nullopt;
  auto spec = header.substr(prefix.size());
  if (spec.find(',') != std::string_view::npos) return std::nullopt;
  const auto dash = spec.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  const auto first = parse_u64(spec.substr(0, dash));
  const auto last = parse_u64(spec.substr(dash + 1));
  auto unsatisfiable = [] { return ApiError(ErrorCode::range_not_satisfiable, "Requested range not satisfiable"); };
  if (!first) {
    if (!last || *last == 0 || size == 0) throw unsatisfiable();
    return ByteRange{size - std::min(*last, size), size - 1};
  }
  if (*first >= size) throw unsatisfiable();
  if (dash + 1 == spec.size()) return ByteRange{*first, size - 1};
  if (!last || *last < *first) return std::nullopt;
  return ByteRange{*first, std::min(*last, size - 1)};
}

MediaAnswer answer_media(const Request& req, const std::string& etag, std::uint64_t size, std::string content_type,
                         std::string cache_control, std::uint64_t max_range) {
  MediaAnswer a;
  Response& r = a.response;
  r.headers["ETag"] = etag;
  r.headers["Cache-Control"] = std::move(cache_control);
  r.headers["Accept-Ranges"] = "bytes";
  const auto inm = req.header("If-None-Match");
  if (!inm.empty() && (inm == "*" || inm.find(etag) != std::string::npos)) {
    r.status = 304;
    return a;
  }
  r.headers["Content-Type"] = std::move(content_type);
  a.has_body = true;
  const auto range_header = req.header("Range");
  const auto if_range = req.header("If-Range");
  if (!range_header.empty() && (if_range.empty() || if_range == etag)) {
    try {
      if (auto range = parse_range(range_header, size)) {
        if (range->last - range->first >= max_range) range->last = range->first + max_range - 1;
        r.status = 206;
        r.headers["Content-Range"] = "bytes " + std::to_string(range->first) + "-" + std::to_string(range->last) +
                                     "/" + std::to_string(size);
        a.range = range;
      }
    } catch (const ApiError& e) {
      a.response = error_response(e);
      a.response.headers["Content-Range"] = "bytes */" + std::to_string(size);
      a.has_body = false;
    }
  }
  return a;
}

Response Response::file_of(const Request& req, const std::filesystem::path& path, std::string content_type,
                           std::string cache_control) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) throw ApiError(ErrorCode::not_found, "File not found");
  const auto size = static_cast<std::uint64_t>(st.st_size);
  const auto mtime_ns = static_cast<std::uint64_t>(st.st_mtim.tv_sec) * 1000000000ull + st.st_mtim.tv_nsec;
  char etag[64];
  std::snprintf(etag, sizeof etag, "\"%llx-%llx\"", static_cast<unsigned long long>(size),
                static_cast<unsigned long long>(mtime_ns));
  MediaAnswer a = answer_media(req, etag, size, std::move(content_type), std::move(cache_control));
  if (a.has_body) {
    a.response.file = FileBody{.path = path,
                               .offset = a.range ? a.range->first : 0,
                               .length = a.range ? a.range->last - a.range->first + 1 : size,
                               .device = static_cast<std::uint64_t>(st.st_dev),
                               .inode = static_cast<std::uint64_t>(st.st_ino),
                               .size = size,
                               .mtime_ns = mtime_ns};
  }
  return std::move(a.response);
}

long long query_int(const Request& req, const std::string& name, long long fallback, long long min, long long max) {
  const auto raw = req.query_param(name);
  if (!raw) return fallback;
  long long v = 0;
  auto [p, ec] = std::from_chars(raw->data(), raw->data() + raw->size(), v);
  if (ec != std::errc{} || p != raw->data() + raw->size() || v < min || v > max)
    throw ApiError(ErrorCode::validation_failed, "Invalid query parameter",
                   {{name, {"must be an integer between " + std::to_string(min) + " and " + std::to_string(max)}}});
  return v;
}

}  // namespace reelhub::http
