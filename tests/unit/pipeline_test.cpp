// The request pipeline without sockets: routing, auth, roles, rate limits, error mapping,
// request ids, CORS, target decoding and request metrics.

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "reelhub/auth/tokens.hpp"
#include "reelhub/core/config.hpp"
#include "reelhub/core/error.hpp"
#include "reelhub/http/rate_limit.hpp"
#include "reelhub/http/router.hpp"
#include "reelhub/http/pipeline.hpp"
#include "reelhub/metrics/registry.hpp"

namespace reelhub::http {

using auth::AuthUser;
using auth::Role;
namespace {

using nlohmann::json;

const std::string kSecret = "pipeline-test-secret-0123456789abcdef";
const std::string kAllowedOrigin = "https://app.example";
const AuthUser kViewer{11, "vera", Role::viewer, "sid-v"};
const AuthUser kAdmin{1, "root", Role::admin, "sid-a"};

bool is_hex(const std::string& s) { return s.find_first_not_of("0123456789abcdef") == std::string::npos; }

/// A handler answering 200 with `body`, after recording the request it saw.
Handler answer(Request* seen, json body = json::object()) {
  return [seen, body](Request& req) {
    if (seen) *seen = req;
    return Response::json(200, body);
  };
}

class PipelineTest : public ::testing::Test {
 protected:
  PipelineTest()
      : limiter_({{"general", {1000, 60}}, {"login", {3, 60}}, {"upload", {2, 60}}}),
        tokens_(kSecret, 3600, 30) {
    config_.jwt_secret = kSecret;
    config_.cors_origins = {kAllowedOrigin};

    RouteOptions user;
    user.access = Access::user;
    RouteOptions admin = user;
    admin.min_role = Role::admin;
    RouteOptions optional;
    optional.access = Access::optional_user;
    RouteOptions login;
    login.rate_policy = "login";
    RouteOptions upload = user;
    upload.rate_policy = "upload";
    upload.body_limit = 5 << 20;
    RouteOptions media;
    media.public_media = true;
    media.rate_policy = "";
    RouteOptions unlimited;
    unlimited.rate_policy = "";

    router_.add("GET", "/users/{id}", answer(&seen_, {{"route", "get_user"}}));
    router_.add("PATCH", "/users/{id}", answer(&seen_), user);
    router_.add("GET", "/admin/stats", answer(&seen_, {{"route", "stats"}}), admin);
    router_.add("GET", "/me", answer(&seen_), optional);
    router_.add("POST", "/auth/login", answer(&seen_), login);
    router_.add("POST", "/videos", answer(&seen_), upload);
    router_.add("GET", "/files/{id}", answer(&seen_, {{"route", "file"}}), unlimited);
    router_.add("GET", "/files/{id}/x", answer(&seen_, {{"route", "file_x"}}), unlimited);
    router_.add("GET", "/search", answer(&seen_), unlimited);
    router_.add("GET", "/live/{stream}/{file}", [](Request& req) -> Response {
      if (req.param("file") != "index.m3u8") throw ApiError(ErrorCode::not_found, "Segment not found");
      Response r;
      r.headers["Content-Type"] = "application/vnd.apple.mpegurl";
      r.body = "#EXTM3U\n";
      return r;
    }, media);
    router_.add("POST", "/boom/api", [](Request&) -> Response {
      throw ApiError(ErrorCode::conflict, "Stream already live", {{"stream", {"is live"}}});
    });
    router_.add("GET", "/boom/std", [](Request&) -> Response {
      throw std::runtime_error("pq: password authentication failed for user reelhub_secret");
    });
    router_.add("GET", "/boom/int", [](Request&) -> Response { throw 42; });
  }

  void SetUp() override {
    log_level_ = spdlog::get_level();
    spdlog::set_level(spdlog::level::off);  // access lines are not under test here
  }
  void TearDown() override { spdlog::set_level(log_level_); }

  Response send(const std::string& method, const std::string& target, Headers headers = {},
                const std::string& ip = "10.0.0.1") {
    Request req;
    req.method = method;
    req.target = target;
    req.headers = std::move(headers);
    req.remote_ip = ip;
    last_ = req;
    Pipeline pipeline(config_, router_, limiter_, tokens_, metrics_);
    auto res = pipeline.handle(req);
    last_ = req;
    return res;
  }
  Headers bearer(const AuthUser& user) const { return {{"Authorization", "Bearer " + tokens_.issue(user)}}; }

  Config config_;
  Router router_;
  RateLimiter limiter_;
  auth::TokenSigner tokens_;
  metrics::Registry metrics_;
  Request seen_;  // what the last handler received
  Request last_;  // the request after the pipeline filled it in
  spdlog::level::level_enum log_level_ = spdlog::level::info;
};

json body_of(const Response& r) { return json::parse(r.body); }

TEST_F(PipelineTest, UnknownRouteIs404Json) {
  const auto r = send("GET", "/nowhere");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.headers.at("Content-Type"), "application/json; charset=utf-8");
  EXPECT_EQ(body_of(r), (json{{"error", "Not Found"}, {"message", "Route not found"}, {"code", 404}}));
  EXPECT_EQ(r.headers.count("Allow"), 0u);
  EXPECT_EQ(r.headers.count("X-RateLimit-Limit"), 0u);
}

TEST_F(PipelineTest, WrongMethodIs405WithAllow) {
  const auto r = send("DELETE", "/users/5");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.headers.at("Allow"), "GET, PATCH, HEAD, OPTIONS");
  EXPECT_EQ(body_of(r), (json{{"error", "Method Not Allowed"}, {"message", "Method not allowed"}, {"code", 405}}));
  EXPECT_EQ(send("GET", "/auth/login").headers.at("Allow"), "POST, OPTIONS");
}

TEST_F(PipelineTest, HeadRunsTheGetHandler) {
  const auto r = send("HEAD", "/users/5");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(seen_.params.at("id"), "5");
}

TEST_F(PipelineTest, MalformedTargetIs400) {
  for (const char* target : {"users/5", "/users/%zz", "/users/5?q=%zz", ""}) {
    SCOPED_TRACE(target);
    const auto r = send("GET", target);
    EXPECT_EQ(r.status, 400);
    EXPECT_EQ(body_of(r).at("message"), "Malformed request target");
  }
}

TEST_F(PipelineTest, PreflightAnswered) {
  const auto r = send("OPTIONS", "/users/5",
                      {{"Origin", kAllowedOrigin}, {"Access-Control-Request-Method", "PATCH"},
                       {"Access-Control-Request-Headers", "authorization, content-type"}});
  EXPECT_EQ(r.status, 204);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(r.headers.at("Access-Control-Allow-Methods"), "GET, PATCH, HEAD, OPTIONS");
  EXPECT_EQ(r.headers.at("Allow"), "GET, PATCH, HEAD, OPTIONS");
  EXPECT_EQ(r.headers.at("Access-Control-Allow-Headers"),
            "Authorization, Content-Type, X-Request-Id, Idempotency-Key, Range");
  EXPECT_EQ(r.headers.at("Access-Control-Max-Age"), "600");
  EXPECT_EQ(r.headers.at("Access-Control-Allow-Origin"), kAllowedOrigin);
  EXPECT_EQ(r.headers.at("Vary"), "Origin");
  // A user route answers its preflight without a token: browsers never send one there.
  EXPECT_EQ(send("OPTIONS", "/admin/stats", {{"Origin", kAllowedOrigin}}).status, 204);
  EXPECT_EQ(send("OPTIONS", "/nowhere", {{"Origin", kAllowedOrigin}}).status, 404);
}

TEST_F(PipelineTest, PublicMediaPreflightAllowsAnyOrigin) {
  // API.md: public media responses carry ACAO * and OPTIONS allows GET, HEAD and Range.
  const auto r = send("OPTIONS", "/live/s1/seg1.ts",
                      {{"Origin", "https://player.elsewhere"}, {"Access-Control-Request-Headers", "range"}});
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.headers.at("Access-Control-Allow-Methods"), "GET, HEAD, OPTIONS");
  EXPECT_NE(r.headers.at("Access-Control-Allow-Headers").find("Range"), std::string::npos);
  ASSERT_EQ(r.headers.count("Access-Control-Allow-Origin"), 1u) << "the browser fails the preflight without it";
  EXPECT_EQ(r.headers.at("Access-Control-Allow-Origin"), "*");
}

TEST_F(PipelineTest, UserRouteWithoutTokenIs401) {
  const auto r = send("GET", "/admin/stats");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(body_of(r), (json{{"error", "Unauthorized"}, {"message", "Authentication required"}, {"code", 401}}));
}

TEST_F(PipelineTest, BadTokensAre401) {
  auth::TokenSigner forger("another-secret-that-is-long-enough-000", 3600, 30);
  const auto expired = tokens_.issue_at(kAdmin, std::chrono::system_clock::now() - std::chrono::hours(3));
  // A viewer's claims under an admin token's signature: role escalation by editing the payload.
  const std::string viewer = tokens_.issue(kViewer), admin = tokens_.issue(kAdmin);
  const std::string spliced = viewer.substr(0, viewer.rfind('.')) + admin.substr(admin.rfind('.'));
  struct Case {
    const char* label;
    std::string authorization;
    const char* message;
  };
  const Case cases[] = {
      {"forged signature", "Bearer " + forger.issue(kAdmin), "Invalid or expired token"},
      {"expired", "Bearer " + expired, "Invalid or expired token"},
      {"garbage", "Bearer not.a.jwt", "Invalid or expired token"},
      {"spliced signature", "Bearer " + spliced, "Invalid or expired token"},
      {"no signature", "Bearer " + admin.substr(0, admin.rfind('.') + 1), "Invalid or expired token"},
      {"basic scheme", "Basic dXNlcjpwYXNz", "Authorization must be a Bearer token"},
      {"scheme only", "Bearer ", "Authorization must be a Bearer token"},
      {"raw token", admin, "Authorization must be a Bearer token"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.label);
    const auto r = send("GET", "/admin/stats", {{"Authorization", c.authorization}});
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(body_of(r).at("message"), c.message);
    EXPECT_FALSE(last_.user.has_value());
  }
}

TEST_F(PipelineTest, ViewerOnAdminRouteIs403) {
  const auto r = send("GET", "/admin/stats", bearer(kViewer));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(body_of(r),
            (json{{"error", "Forbidden"}, {"message", "Insufficient role for this action"}, {"code", 403}}));
}

TEST_F(PipelineTest, AdminReachesAdminRouteWithUserFilled) {
  const auto r = send("GET", "/admin/stats", bearer(kAdmin));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(body_of(r), (json{{"route", "stats"}}));
  ASSERT_TRUE(seen_.user.has_value());
  EXPECT_EQ(seen_.user->id, 1);
  EXPECT_EQ(seen_.user->username, "root");
  EXPECT_EQ(seen_.user->role, Role::admin);
  EXPECT_EQ(seen_.user->session_id, "sid-a");
  // The scheme is case-insensitive (RFC 9110).
  auto lower = bearer(kAdmin);
  lower["Authorization"].replace(0, 6, "bearer");
  EXPECT_EQ(send("GET", "/admin/stats", lower).status, 200);
}

TEST_F(PipelineTest, ViewerReachesUserRoute) {
  const auto r = send("PATCH", "/users/11", bearer(kViewer));
  EXPECT_EQ(r.status, 200);
  ASSERT_TRUE(seen_.user.has_value());
  EXPECT_EQ(seen_.user->id, 11);
  EXPECT_EQ(seen_.params.at("id"), "11");
}

TEST_F(PipelineTest, OptionalUserRoute) {
  EXPECT_EQ(send("GET", "/me").status, 200);
  EXPECT_FALSE(seen_.user.has_value());
  EXPECT_EQ(send("GET", "/me", bearer(kViewer)).status, 200);
  ASSERT_TRUE(seen_.user.has_value());
  EXPECT_EQ(seen_.user->id, 11);
  // A token that is present but invalid is an error, not silently anonymous.
  EXPECT_EQ(send("GET", "/me", {{"Authorization", "Bearer not.a.jwt"}}).status, 401);
}

TEST_F(PipelineTest, PublicRouteIgnoresAuthorization) {
  const auto r = send("GET", "/users/5", {{"Authorization", "Bearer not.a.jwt"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(seen_.user.has_value());
}

TEST_F(PipelineTest, HandlerApiErrorKeepsStatusAndBody) {
  const auto r = send("POST", "/boom/api");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(body_of(r), (json{{"error", "Conflict"},
                              {"message", "Stream already live"},
                              {"code", 409},
                              {"details", {{"stream", {"is live"}}}}}));
}

TEST_F(PipelineTest, UnexpectedExceptionIsGeneric500) {
  const auto r = send("GET", "/boom/std");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(body_of(r), (json{{"error", "Internal Server Error"}, {"message", "Internal server error"}, {"code", 500}}));
  EXPECT_EQ(r.body.find("reelhub_secret"), std::string::npos) << "the exception text never reaches the client";
  EXPECT_EQ(r.body.find("password"), std::string::npos);
  EXPECT_EQ(r.headers.at("X-Request-Id"), last_.request_id) << "the id ties the response to the log line";
}

TEST_F(PipelineTest, NonStandardExceptionIsGeneric500Too) {
  // invoke() promises never to throw; an exception escaping it would unwind the server's io loop.
  Response r;
  ASSERT_NO_THROW(r = send("GET", "/boom/int"));
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(body_of(r), (json{{"error", "Internal Server Error"}, {"message", "Internal server error"}, {"code", 500}}));
}

TEST_F(PipelineTest, RateLimitedRouteIs429WithHeaders) {
  for (int i = 1; i <= 3; ++i) {
    SCOPED_TRACE(i);
    const auto r = send("POST", "/auth/login");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.headers.at("X-RateLimit-Limit"), "3");
    EXPECT_EQ(r.headers.at("X-RateLimit-Remaining"), std::to_string(3 - i));
    // Seed 004: a Unix time, one window from now.
    const long long now = std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::system_clock::now().time_since_epoch()).count();
    const long long reset = std::stoll(r.headers.at("X-RateLimit-Reset"));
    EXPECT_GE(reset, now + 58);
    EXPECT_LE(reset, now + 61);
  }
  const auto r = send("POST", "/auth/login", {{"Origin", kAllowedOrigin}});
  EXPECT_EQ(r.status, 429);
  const int retry = std::stoi(r.headers.at("Retry-After"));
  EXPECT_GT(retry, 0);
  EXPECT_LE(retry, 60);
  EXPECT_EQ(r.headers.at("X-RateLimit-Limit"), "3");
  EXPECT_EQ(r.headers.at("X-RateLimit-Remaining"), "0");
  const long long now = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count();
  const long long reset = std::stoll(r.headers.at("X-RateLimit-Reset"));
  EXPECT_GE(reset, now + retry - 1);
  EXPECT_LE(reset, now + retry + 1);
  EXPECT_EQ(body_of(r), (json{{"error", "Too Many Requests"},
                              {"message", "Rate limit exceeded, retry later"},
                              {"code", 429},
                              {"retry_after", retry}}));
  EXPECT_EQ(r.headers.at("Access-Control-Allow-Origin"), kAllowedOrigin) << "a browser must be able to read the 429";
  EXPECT_EQ(metrics_.value("reelhub_http_rate_limited_total", {{"policy", "login"}}), 1);

  EXPECT_EQ(send("POST", "/auth/login", {}, "10.0.0.2").status, 200) << "another IP has its own budget";
  EXPECT_EQ(send("GET", "/users/5").headers.at("X-RateLimit-Limit"), "1000") << "other policy unaffected";
}

TEST_F(PipelineTest, AuthenticatedBudgetFollowsTheUserNotTheIp) {
  EXPECT_EQ(send("POST", "/videos", bearer(kViewer), "10.0.0.1").status, 200);
  EXPECT_EQ(send("POST", "/videos", bearer(kViewer), "10.0.0.2").status, 200);
  EXPECT_EQ(send("POST", "/videos", bearer(kViewer), "10.0.0.3").status, 429);
  EXPECT_EQ(send("POST", "/videos", bearer(kAdmin), "10.0.0.1").status, 200);
}

TEST_F(PipelineTest, UnlimitedRoutesHaveNoRateLimitHeaders) {
  const auto r = send("GET", "/files/abc");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.count("X-RateLimit-Limit"), 0u);
  EXPECT_EQ(r.headers.count("X-RateLimit-Remaining"), 0u);
}

TEST_F(PipelineTest, RequestIdEchoedWhenSafe) {
  for (const std::string& id : {std::string("abc-123_X.y"), std::string(64, 'a')}) {
    SCOPED_TRACE(id);
    const auto r = send("GET", "/users/5", {{"X-Request-Id", id}});
    EXPECT_EQ(r.headers.at("X-Request-Id"), id);
    EXPECT_EQ(seen_.request_id, id);
  }
}

TEST_F(PipelineTest, RequestIdRegeneratedWhenUnsafe) {
  const std::string unsafe[] = {"",          "has space", std::string(200, 'a'), std::string(65, 'a'),
                                "a\r\nSet-Cookie: x=1", "ёж", "a/b", "<script>"};
  for (const auto& id : unsafe) {
    SCOPED_TRACE(id);
    const auto r = send("GET", "/users/5", {{"X-Request-Id", id}});
    const auto& got = r.headers.at("X-Request-Id");
    EXPECT_NE(got, id);
    EXPECT_EQ(got.size(), 16u);
    EXPECT_TRUE(is_hex(got)) << got;
    EXPECT_EQ(seen_.request_id, got);
  }
  const auto a = send("GET", "/nowhere").headers.at("X-Request-Id");
  const auto b = send("GET", "/nowhere").headers.at("X-Request-Id");
  EXPECT_NE(a, b);
}

TEST_F(PipelineTest, CorsAllowedOriginEchoed) {
  const auto r = send("GET", "/users/5", {{"Origin", kAllowedOrigin}});
  EXPECT_EQ(r.headers.at("Access-Control-Allow-Origin"), kAllowedOrigin);
  EXPECT_EQ(r.headers.at("Vary"), "Origin");
  const auto& exposed = r.headers.at("Access-Control-Expose-Headers");
  for (const char* h : {"X-Request-Id", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset",
                        "Retry-After", "Content-Range", "ETag"})
    EXPECT_NE(exposed.find(h), std::string::npos) << h;
  // Errors carry it too, so the browser lets the frontend read the JSON error.
  EXPECT_EQ(send("GET", "/nowhere", {{"Origin", kAllowedOrigin}}).headers.at("Access-Control-Allow-Origin"),
            kAllowedOrigin);
}

TEST_F(PipelineTest, CorsDisallowedOriginGetsNoHeaders) {
  for (const std::string& origin : {std::string("https://evil.example"), std::string("https://app.example.evil"),
                                    std::string("http://app.example"), std::string("")}) {
    SCOPED_TRACE(origin);
    Headers h;
    if (!origin.empty()) h["Origin"] = origin;
    const auto r = send("GET", "/users/5", h);
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.headers.count("Access-Control-Allow-Origin"), 0u);
    EXPECT_EQ(r.headers.count("Access-Control-Expose-Headers"), 0u);
    EXPECT_EQ(r.headers.count("Vary"), 0u);
  }
}

TEST_F(PipelineTest, CorsWildcardConfig) {
  config_.cors_origins = {"*"};
  const auto r = send("GET", "/users/5", {{"Origin", "https://anyone.example"}});
  EXPECT_EQ(r.headers.at("Access-Control-Allow-Origin"), "*");
  EXPECT_EQ(r.headers.count("Vary"), 0u);
}

TEST_F(PipelineTest, PublicMediaAllowsAnyOriginEvenForErrors) {
  const auto ok = send("GET", "/live/s1/index.m3u8", {{"Origin", "https://player.elsewhere"}});
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "#EXTM3U\n");
  EXPECT_EQ(ok.headers.at("Content-Type"), "application/vnd.apple.mpegurl");
  EXPECT_EQ(ok.headers.at("Access-Control-Allow-Origin"), "*");
  EXPECT_EQ(ok.headers.count("X-RateLimit-Limit"), 0u) << "players poll; media is not rate limited";

  const auto missing = send("GET", "/live/s1/seg9.ts");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(body_of(missing).at("message"), "Segment not found");
  EXPECT_EQ(missing.headers.at("Access-Control-Allow-Origin"), "*");
  EXPECT_NE(missing.headers.at("Access-Control-Expose-Headers").find("Content-Range"), std::string::npos);
}

TEST_F(PipelineTest, QueryIsDecoded) {
  const auto r = send("GET", "/search?q=hello%20world&tag=a+b&plus=%2B&empty=&flag&x=1&x=2&%C3%A9=%D1%91%D0%B6");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(seen_.query, (std::map<std::string, std::string>{{"q", "hello world"},
                                                             {"tag", "a b"},
                                                             {"plus", "+"},
                                                             {"empty", ""},
                                                             {"flag", ""},
                                                             {"x", "2"},
                                                             {"é", "ёж"}}));
  EXPECT_EQ(seen_.path, "/search");
  EXPECT_EQ(seen_.target, "/search?q=hello%20world&tag=a+b&plus=%2B&empty=&flag&x=1&x=2&%C3%A9=%D1%91%D0%B6");
}

TEST_F(PipelineTest, PathSegmentsAreDecoded) {
  EXPECT_EQ(send("GET", "/users/%D1%91%D0%B6").status, 200);
  EXPECT_EQ(seen_.params.at("id"), "ёж");
  EXPECT_EQ(send("GET", "/users/a%20b").status, 200);
  EXPECT_EQ(seen_.params.at("id"), "a b");
  EXPECT_EQ(send("GET", "/users/a+b").status, 200);
  EXPECT_EQ(seen_.params.at("id"), "a+b") << "'+' means space only in the query";
}

TEST_F(PipelineTest, EncodedSlashStaysInsideOneSegment) {
  const auto r = send("GET", "/files/a%2Fb");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(body_of(r), (json{{"route", "file"}})) << "must not reach /files/{id}/x";
  EXPECT_EQ(seen_.params, (std::map<std::string, std::string>{{"id", "a/b"}}));

  const auto x = send("GET", "/files/a%2Fb/x");
  EXPECT_EQ(body_of(x), (json{{"route", "file_x"}}));
  EXPECT_EQ(seen_.params.at("id"), "a/b");

  EXPECT_EQ(send("GET", "/files/a/b").status, 404) << "a real slash is a new segment";
}

TEST_F(PipelineTest, TrailingSlashAndEmptySegments) {
  EXPECT_EQ(send("GET", "/users/5/").status, 404);
  EXPECT_EQ(send("GET", "/users//").status, 404);
  EXPECT_EQ(send("GET", "/users/").status, 404);
  EXPECT_EQ(send("GET", "//users/5").status, 404);
}

TEST_F(PipelineTest, RequestMetricsUseTheRoutePattern) {
  send("GET", "/users/5");
  send("GET", "/users/6");
  send("GET", "/nowhere/1");
  send("GET", "/nowhere/2");
  send("DELETE", "/users/5");
  EXPECT_EQ(metrics_.value("reelhub_http_requests_total",
                           {{"route", "/users/{id}"}, {"method", "GET"}, {"status", "200"}}),
            2);
  EXPECT_EQ(metrics_.value("reelhub_http_requests_total", {{"route", "unmatched"}, {"method", "GET"}, {"status", "404"}}),
            2) << "unknown paths share one label, so scanners cannot blow up the series count";
  EXPECT_EQ(metrics_.value("reelhub_http_requests_total",
                           {{"route", "unmatched"}, {"method", "DELETE"}, {"status", "405"}}),
            1);
  const auto text = metrics_.render();
  EXPECT_NE(text.find("# TYPE reelhub_http_requests_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE reelhub_http_request_duration_seconds histogram\n"), std::string::npos);
  EXPECT_NE(text.find("reelhub_http_request_duration_seconds_count{route=\"/users/{id}\",method=\"GET\"} 2\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("/users/5"), std::string::npos) << "raw paths never become labels";
}

TEST_F(PipelineTest, ErrorStatusesAreCounted) {
  send("GET", "/admin/stats");
  send("POST", "/boom/api");
  EXPECT_EQ(metrics_.value("reelhub_http_requests_total",
                           {{"route", "/admin/stats"}, {"method", "GET"}, {"status", "401"}}),
            1);
  EXPECT_EQ(metrics_.value("reelhub_http_requests_total",
                           {{"route", "/boom/api"}, {"method", "POST"}, {"status", "409"}}),
            1);
}

TEST_F(PipelineTest, BodyLimitPerRoute) {
  config_.body_limit_bytes = 4096;
  Pipeline pipeline(config_, router_, limiter_, tokens_, metrics_);
  const auto limit_for = [&](const std::string& method, const std::string& target) {
    Request req;
    req.method = method;
    req.target = target;
    return pipeline.body_policy(pipeline.route(req)).limit;
  };
  EXPECT_EQ(limit_for("POST", "/videos"), std::size_t{5 << 20});
  EXPECT_EQ(limit_for("POST", "/videos?draft=1"), std::size_t{5 << 20});
  EXPECT_EQ(limit_for("POST", "/auth/login"), 4096u);
  EXPECT_EQ(limit_for("PUT", "/videos"), 4096u);
  EXPECT_EQ(limit_for("POST", "/nowhere"), 4096u);
  EXPECT_EQ(limit_for("POST", "not a target"), 4096u);
}

}  // namespace
}  // namespace reelhub::http
