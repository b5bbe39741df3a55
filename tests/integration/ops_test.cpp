// Ops endpoints (API.md "Ops"): health, readiness, storage, metrics, the OpenAPI document, CORS.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "expectations.hpp"
#include "stack.hpp"
#include "users.hpp"

namespace reelhub::testing {
namespace {

constexpr const char* kAllowedOrigin = "https://app.example.com";

class OpsTest : public StackTest {
 protected:
  static void SetUpTestSuite() {
    auto env = relaxed_rate_limits();
    env["REELHUB_CORS_ORIGINS"] = kAllowedOrigin;
    start_stack(env);
  }
};

TEST_F(OpsTest, HealthAnswersTheSeedShape) {
  auto res = http().get("/health");
  ASSERT_EQ(res.status, 200) << res;
  ASSERT_TRUE(is_json(res));
  const auto body = res.json();
  EXPECT_EQ(body.at("status"), "healthy");
  EXPECT_EQ(body.at("service"), "reelhub");
  ASSERT_TRUE(body.at("timestamp").is_string()) << body;
  EXPECT_TRUE(is_iso8601_utc(body["timestamp"].get<std::string>())) << body;
}

TEST_F(OpsTest, LiveAndReady) {
  auto live = http().get("/health/live");
  EXPECT_EQ(live.status, 200) << live;
  EXPECT_TRUE(is_json(live));
  auto ready = http().get("/health/ready");
  EXPECT_EQ(ready.status, 200) << ready;
  EXPECT_TRUE(is_json(ready));
}

TEST_F(OpsTest, StorageAnswersSeed001ShapeAnd503WhenUnwritable) {
  auto res = http().get("/health/storage");
  ASSERT_EQ(res.status, 200) << res;
  ASSERT_TRUE(is_json(res));
  auto body = res.json();
  EXPECT_EQ(body.at("status"), "healthy");
  EXPECT_TRUE(body.at("message").is_string()) << body;
  ASSERT_TRUE(body.at("timestamp").is_string()) << body;
  EXPECT_TRUE(is_iso8601_utc(body["timestamp"].get<std::string>())) << body;

  // Put a plain file where the media directory was: nothing can be written below it any more
  // (this holds for root too, unlike permission bits).
  const auto media = stack().server.media_root();
  const auto aside = media.parent_path() / "media.aside";
  std::filesystem::rename(media, aside);
  { std::ofstream(media) << "not a directory"; }

  auto broken = http().get("/health/storage");
  auto not_ready = http().get("/health/ready");

  std::filesystem::remove(media);
  std::filesystem::rename(aside, media);

  EXPECT_EQ(broken.status, 503) << broken;
  EXPECT_TRUE(is_json(broken));
  EXPECT_EQ(broken.json().value("status", ""), "unhealthy") << broken;
  EXPECT_EQ(not_ready.status, 503) << "readiness must include writable media storage: " << not_ready;

  EXPECT_EQ(http().get("/health/storage").status, 200);
  EXPECT_EQ(http().get("/health/ready").status, 200);
}

TEST_F(OpsTest, MetricsCountRequestsByRouteMethodAndStatus) {
  for (int i = 0; i < 3; ++i) ASSERT_EQ(http().get("/health").status, 200);
  const std::string unknown = "/no-such-route-" + random_hex(4);
  ASSERT_EQ(http().get(unknown).status, 404);

  auto res = http().get("/metrics");
  ASSERT_EQ(res.status, 200) << res;
  EXPECT_EQ(res.header("Content-Type").rfind("text/plain", 0), 0u) << res.header("Content-Type");
  const auto& text = res.body;
  EXPECT_GE(metric_sample(text, "reelhub_http_requests_total", {"route=\"/health\"", "method=\"GET\"", "status=\"200\""}), 3)
      << text;
  EXPECT_GE(metric_sample(text, "reelhub_http_requests_total", {"status=\"404\""}), 1) << text;
  EXPECT_NE(text.find("# TYPE reelhub_http_request_duration_seconds histogram"), std::string::npos) << text;
  EXPECT_GE(metric_sample(text, "reelhub_http_request_duration_seconds_count", {"route=\"/health\""}), 3) << text;
  EXPECT_GE(metric_sample(text, "reelhub_http_request_duration_seconds_bucket", {"route=\"/health\"", "le=\"+Inf\""}), 3)
      << text;
  // Unknown paths are not labels: a scanner must not be able to grow the metric set without bound.
  EXPECT_EQ(text.find(unknown), std::string::npos) << "raw path used as a metric label";
}

/// The series of a Prometheus text page: every sample line without its value.
std::set<std::string> series_of(const std::string& metrics) {
  std::set<std::string> out;
  std::istringstream lines(metrics);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    out.insert(line.substr(0, line.rfind(' ')));
  }
  return out;
}

TEST_F(OpsTest, MadeUpMethodsGet501AndNeverGrowTheMetrics) {
  RawConnection conn(stack().server.port(), std::chrono::seconds(30));
  const auto port = stack().server.port();
  conn.send(serialize_request("BREW", "/health", "", {}, port));
  const HttpResponse first = conn.read_response();
  ASSERT_EQ(first.status, 501) << first;
  ASSERT_TRUE(is_json(first)) << first;
  EXPECT_EQ(first.json().at("error"), "Not Implemented");
  ASSERT_EQ(http().get("/metrics").status, 200);  // from here on /metrics' own series exist too
  const std::string before = http().get("/metrics").body;
  EXPECT_GE(metric_sample(before, "reelhub_http_requests_total", {"method=\"other\"", "status=\"501\""}), 1) << before;

  // 10,000 requests, each with its own made-up method and path, pipelined 100 at a time.
  constexpr int kBatches = 100, kPerBatch = 100;
  for (int b = 0; b < kBatches; ++b) {
    std::string batch;
    for (int i = 0; i < kPerBatch; ++i) {
      const std::string token = "X" + std::to_string(b * kPerBatch + i) + random_hex(4);
      batch += serialize_request(token, "/" + token, "", {}, port);
    }
    conn.send(batch);
    for (int i = 0; i < kPerBatch; ++i) ASSERT_EQ(conn.read_response().status, 501);
  }
  const std::string after = http().get("/metrics").body;
  EXPECT_EQ(series_of(after), series_of(before)) << "junk requests added metric series";
  // Only counters' digits may grow.
  EXPECT_LT(after.size(), before.size() + 512) << "metrics grew from " << before.size() << " to " << after.size();
  EXPECT_GE(metric_sample(after, "reelhub_http_requests_total", {"method=\"other\"", "status=\"501\""}), 10001) << after;
}

TEST_F(OpsTest, OpenApiDocumentIsServedAsYaml) {
  auto res = http().get("/openapi.yaml");
  ASSERT_EQ(res.status, 200) << res;
  EXPECT_NE(res.header("Content-Type").find("yaml"), std::string::npos) << res.header("Content-Type");
  EXPECT_TRUE(std::regex_search(res.body, std::regex(R"((^|\n)openapi: ['"]?3\.)"))) << res.body.substr(0, 200);
  for (const char* path : {"/auth/register", "/auth/login", "/auth/refresh", "/auth/logout", "/auth/validate",
                           "/users/profile", "/health/ready"}) {
    EXPECT_NE(res.body.find(std::string(path) + ":"), std::string::npos) << path << " is not documented";
  }
}

TEST_F(OpsTest, CorsPreflightForAnAllowedOrigin) {
  auto res = http().request("OPTIONS", "/auth/login", "",
                            {{"Origin", kAllowedOrigin},
                             {"Access-Control-Request-Method", "POST"},
                             {"Access-Control-Request-Headers", "authorization, content-type"}});
  EXPECT_TRUE(res.status == 200 || res.status == 204) << res;
  EXPECT_EQ(res.header("Access-Control-Allow-Origin"), kAllowedOrigin) << res;
  EXPECT_NE(res.header("Access-Control-Allow-Methods").find("POST"), std::string::npos) << res;
  std::string allowed_headers = res.header("Access-Control-Allow-Headers");
  for (auto& c : allowed_headers) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  EXPECT_NE(allowed_headers.find("authorization"), std::string::npos) << res;
  EXPECT_NE(allowed_headers.find("content-type"), std::string::npos) << res;

  // The actual request carries the origin back too.
  auto actual = http().get("/health", {{"Origin", kAllowedOrigin}});
  EXPECT_EQ(actual.header("Access-Control-Allow-Origin"), kAllowedOrigin) << actual;
}

TEST_F(OpsTest, CorsRefusesOtherOrigins) {
  auto res = http().request("OPTIONS", "/auth/login", "",
                            {{"Origin", "https://evil.example"}, {"Access-Control-Request-Method", "POST"}});
  EXPECT_FALSE(res.has_header("Access-Control-Allow-Origin")) << res;
  auto actual = http().get("/health", {{"Origin", "https://evil.example"}});
  EXPECT_FALSE(actual.has_header("Access-Control-Allow-Origin")) << actual;
}

TEST_F(OpsTest, ASecondServerOnATakenPortRefusesToStart) {
  // Every io thread listens with SO_REUSEPORT; without the probe bind a second server of the
  // same user would silently share the port and take half of the first one's connections.
  ServerOptions options{.database_url = stack().db.url(),
                        .env = {{"REELHUB_HTTP_PORT", std::to_string(stack().server.port())}},
                        .ready_timeout = std::chrono::seconds(20)};
  try {
    ServerProcess second(options);
    FAIL() << "a second server started on port " << stack().server.port();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("exited (code 1)"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("in use"), std::string::npos) << e.what();
  }
  EXPECT_EQ(http().get("/health/live").status, 200);
}

}  // namespace
}  // namespace reelhub::testing
