#include "reelhub/http/pipeline.hpp"

#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <iterator>
#include <string_view>

#include <boost/url/parse.hpp>
#include <pqxx/except>

#include "reelhub/auth/session_cache.hpp"
#include "reelhub/auth/tokens.hpp"
#include "reelhub/core/error.hpp"
#include "reelhub/core/logging.hpp"
#include "reelhub/core/random.hpp"
#include "reelhub/http/rate_limit.hpp"
#include "reelhub/http/router.hpp"
#include "reelhub/metrics/registry.hpp"

namespace reelhub::http {
namespace {

constexpr const char* kAllowedRequestHeaders = "Authorization, Content-Type, X-Request-Id, Idempotency-Key, Range";
constexpr const char* kExposedHeaders =
    "X-Request-Id, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, Retry-After, Content-Range, ETag";

/// The methods any route may have. Anything else a client sends as a method is answered 501 and
/// counted under one label, so made-up methods cannot grow the metrics without bound.
bool is_known_method(const std::string& method) {
  static constexpr std::array<std::string_view, 7> kKnown = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE",
                                                             "OPTIONS"};
  return std::find(kKnown.begin(), kKnown.end(), method) != kKnown.end();
}

/// The method as a metrics label: one of the known methods or "other".
const std::string& method_label(const std::string& method) {
  static const std::string kOther = "other";
  return is_known_method(method) ? method : kOther;
}

bool is_safe_request_id(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (unsigned char c : id)
    if (!std::isalnum(c) && c != '-' && c != '_' && c != '.') return false;
  return true;
}

[[noreturn]] void session_ended() { throw ApiError(ErrorCode::unauthorized, "Session has ended"); }

std::string join(const std::vector<std::string>& parts, const char* sep) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += sep;
    out += p;
  }
  return out;
}

// Splits the target into decoded path segments and query parameters. Segments stay separate,
// so an encoded slash ("a%2Fb") remains one segment that no route pattern of ids will accept.
bool parse_target(Request& req, std::vector<std::string>& segments) {
  auto url = boost::urls::parse_origin_form(req.target);
  if (!url) return false;
  for (auto seg : url->segments()) segments.push_back(seg);
  req.path.clear();
  for (const auto& s : segments) req.path += "/" + s;
  if (req.path.empty()) req.path = "/";
  for (auto param : url->params()) req.query[param.key] = param.value;
  return true;
}

}  // namespace

Pipeline::Pipeline(const Config& config, const Router& router, RateLimiter& limiter, const auth::TokenSigner& tokens,
                   metrics::Registry& metrics)
    : config_(config), router_(router), limiter_(limiter), tokens_(tokens), metrics_(metrics) {
  metrics_.describe("reelhub_http_requests_total", "counter", "HTTP requests by route, method and status");
  metrics_.describe("reelhub_http_request_duration_seconds", "histogram", "HTTP request latency by route");
  metrics_.describe("reelhub_http_rate_limited_total", "counter", "Requests refused with 429 by policy");
}

BodyPolicy Pipeline::body_policy(const Prepared& prepared) const {
  BodyPolicy policy{config_.body_limit_bytes, false};
  if (prepared.route && !prepared.response) {
    if (prepared.route->options.body_limit > 0) policy.limit = prepared.route->options.body_limit;
    policy.to_file = prepared.route->options.body_to_file;
  }
  return policy;
}

Prepared Pipeline::route(Request& req) const {
  Prepared p;
  p.route_label = "unmatched";
  const auto incoming_id = req.header("X-Request-Id");
  req.request_id = is_safe_request_id(incoming_id) ? incoming_id : unique_hex(8);

  std::vector<std::string> segments;
  if (!parse_target(req, segments)) {
    p.response = error_response(ApiError(ErrorCode::bad_request, "Malformed request target"));
    return p;
  }
  if (!is_known_method(req.method)) {
    p.response = error_response(ApiError(ErrorCode::not_implemented, "Method not implemented"));
    return p;
  }
  const Match m = router_.match(req.method, segments);
  if (req.method == "OPTIONS" && !m.allowed.empty()) {
    // The GET route (when there is one) decides the CORS policy of the preflight, so public
    // media answers any origin here too.
    if (const Match get = router_.match("GET", segments); get.route) {
      p.route = get.route;
      p.route_label = get.route->pattern;
    }
    Response preflight = Response::no_content();
    preflight.headers["Allow"] = join(m.allowed, ", ");
    preflight.headers["Access-Control-Allow-Methods"] = join(m.allowed, ", ");
    preflight.headers["Access-Control-Allow-Headers"] = kAllowedRequestHeaders;
    preflight.headers["Access-Control-Max-Age"] = "600";
    p.response = std::move(preflight);
    return p;
  }
  if (!m.route) {
    if (m.allowed.empty()) {
      p.response = error_response(ApiError(ErrorCode::not_found, "Route not found"));
    } else {
      p.response = error_response(ApiError(ErrorCode::method_not_allowed, "Method not allowed"));
      p.response->headers["Allow"] = join(m.allowed, ", ");
    }
    return p;
  }
  p.route = m.route;
  p.route_label = m.route->pattern;
  req.params = m.params;
  return p;
}

void Pipeline::admit(Request& req, Prepared& p) const {
  if (p.response || !p.route) return;
  const RouteOptions& opt = p.route->options;
  try {
    const auto authorization = req.header("Authorization");
    if (opt.access != Access::public_ && !authorization.empty()) {
      constexpr std::string_view scheme = "Bearer ";
      if (authorization.size() <= scheme.size() || strncasecmp(authorization.c_str(), scheme.data(), scheme.size()) != 0)
        throw ApiError(ErrorCode::unauthorized, "Authorization must be a Bearer token");
      req.user = tokens_.verify(authorization.substr(scheme.size()));
      if (sessions_) {
        // From memory only (this is the io thread); a miss is settled by invoke() on a worker.
        const auto live = sessions_->cached(*req.user);
        if (live && !*live) session_ended();
        p.session_unconfirmed = !live;
      }
    }
    if (opt.access == Access::user) {
      if (!req.user) throw ApiError(ErrorCode::unauthorized, "Authentication required");
      if (static_cast<int>(req.user->role) < static_cast<int>(opt.min_role))
        throw ApiError(ErrorCode::forbidden, "Insufficient role for this action");
    }
    if (!opt.rate_policy.empty()) {
      const std::string key = req.user ? "user:" + std::to_string(req.user->id) : "ip:" + req.remote_ip;
      const RateDecision d = limiter_.take(opt.rate_policy, key);
      if (d.limit > 0) {
        p.extra_headers["X-RateLimit-Limit"] = std::to_string(d.limit);
        p.extra_headers["X-RateLimit-Remaining"] = std::to_string(d.remaining);
        // Seed 004: the Unix time at which the window resets (Retry-After carries the delay).
        const auto now_unix = std::chrono::duration_cast<std::chrono::seconds>(
                                  std::chrono::system_clock::now().time_since_epoch()).count();
        p.extra_headers["X-RateLimit-Reset"] = std::to_string(now_unix + d.reset_seconds);
      }
      if (!d.allowed) {
        metrics_.inc("reelhub_http_rate_limited_total", {{"policy", opt.rate_policy}});
        throw ApiError(ErrorCode::rate_limited, "Rate limit exceeded, retry later").with_retry_after(d.reset_seconds);
      }
    }
  } catch (const ApiError& e) {
    p.response = error_response(e);
  }
}

Response Pipeline::invoke(const Prepared& prepared, Request& req) const {
  try {
    if (prepared.session_unconfirmed && !sessions_->check(*req.user)) session_ended();
    return prepared.route->handler(req);
  } catch (const ApiError& e) {
    if (e.code() == ErrorCode::internal || e.code() == ErrorCode::unavailable)
      spdlog::warn("request {} {} {}: {}", req.request_id, req.method, escape_for_log(req.path), e.what());
    return error_response(e);
  } catch (const pqxx::broken_connection& e) {
    spdlog::warn("request {} {} {}: database connection lost: {}", req.request_id, req.method,
                 escape_for_log(req.path), e.what());
    return error_response(database_unavailable());
  } catch (const std::exception& e) {
    spdlog::error("request {} {} {} failed: {}", req.request_id, req.method, escape_for_log(req.path), e.what());
    return error_response(ApiError(ErrorCode::internal, "Internal server error"));
  } catch (...) {
    spdlog::error("request {} {} {} failed with a non-standard exception", req.request_id, req.method, req.path);
    return error_response(ApiError(ErrorCode::internal, "Internal server error"));
  }
}

void Pipeline::finish(const Request& req, const Prepared& prepared, Response& res,
                      std::chrono::steady_clock::time_point started) const {
  res.headers["X-Request-Id"] = req.request_id;
  for (const auto& [name, value] : prepared.extra_headers) res.headers[name] = value;

  const bool public_media = prepared.route && prepared.route->options.public_media;
  const auto origin = req.header("Origin");
  if (public_media) {
    res.headers["Access-Control-Allow-Origin"] = "*";
    res.headers["Access-Control-Expose-Headers"] = kExposedHeaders;
  } else if (!origin.empty()) {
    const auto& allowed = config_.cors_origins;
    const bool any = std::find(allowed.begin(), allowed.end(), "*") != allowed.end();
    if (any || std::find(allowed.begin(), allowed.end(), origin) != allowed.end()) {
      res.headers["Access-Control-Allow-Origin"] = any ? "*" : origin;
      res.headers["Access-Control-Expose-Headers"] = kExposedHeaders;
      if (!any) res.headers["Vary"] = "Origin";
    }
  }

  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  char status_text[8];
  const auto status_end = std::to_chars(status_text, status_text + sizeof status_text, res.status).ptr;
  const std::string_view status(status_text, static_cast<std::size_t>(status_end - status_text));
  const std::string& method = method_label(req.method);
  // One buffer per thread for the label sets and the access log line: after the first requests
  // a response costs no allocation here.
  thread_local std::string scratch;
  scratch.clear();
  metrics::append_labels(scratch, {{"route", prepared.route_label}, {"method", method}, {"status", status}});
  metrics_.inc_rendered("reelhub_http_requests_total", scratch);
  scratch.clear();
  metrics::append_labels(scratch, {{"route", prepared.route_label}, {"method", method}});
  metrics_.observe_rendered("reelhub_http_request_duration_seconds", scratch, seconds);

  if (!spdlog::should_log(spdlog::level::info)) return;  // the line would be formatted for nothing
  const auto bytes = res.file ? res.file->length : res.shared_body ? res.shared_body->size() : res.body.size();
  scratch.clear();
  auto out = std::back_inserter(scratch);
  if (config_.log_format == "json") {
    scratch += R"({"type":"access","request_id":)";
    append_json_string(scratch, req.request_id);
    scratch += R"(,"ip":)";
    append_json_string(scratch, req.remote_ip);
    scratch += R"(,"method":)";
    append_json_string(scratch, req.method);
    scratch += R"(,"path":)";
    append_json_string(scratch, req.path);
    fmt::format_to(out, R"(,"status":{},"bytes":{},"ms":{})", res.status, bytes, seconds * 1000);
    if (req.user) fmt::format_to(out, R"(,"user_id":{})", req.user->id);
    scratch += '}';
  } else {
    append_escaped_for_log(scratch, req.remote_ip);
    scratch += " \"";
    append_escaped_for_log(scratch, req.method);
    scratch += ' ';
    append_escaped_for_log(scratch, req.path);
    fmt::format_to(out, "\" {} {}B {:.1f}ms rid={}", res.status, bytes, seconds * 1000, req.request_id);
  }
  spdlog::info("{}", std::string_view(scratch));
}

Response Pipeline::handle(Request& req) const {
  const auto started = std::chrono::steady_clock::now();
  Prepared p = route(req);
  admit(req, p);
  Response res = p.response ? *p.response : invoke(p, req);
  finish(req, p, res, started);
  return res;
}

}  // namespace reelhub::http
