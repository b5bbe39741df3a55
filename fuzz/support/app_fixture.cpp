#include "app_fixture.hpp"

#include <spdlog/spdlog.h>
#include <stdlib.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "check.hpp"
#include "modules.hpp"
#include "reelhub/auth/tokens.hpp"
#include "reelhub/core/config.hpp"
#include "reelhub/core/error.hpp"
#include "reelhub/db/pool.hpp"
#include "reelhub/http/rate_limit.hpp"
#include "reelhub/metrics/registry.hpp"
#include "reelhub/ws/live_hub.hpp"

namespace reelhub::fuzz {
namespace {

namespace fs = std::filesystem;

fs::path make_scratch_dir() {
  std::string templ = (fs::temp_directory_path() / "reelhub-fuzz-app-XXXXXX").string();
  if (mkdtemp(templ.data()) == nullptr) std::abort();
  return templ;
}

Config fuzz_config(const fs::path& scratch) {
  Config c;
  // A socket directory that does not exist: every connection attempt fails at once.
  c.database_url = "postgresql:///reelhub?host=" + (scratch / "no-postgres").string();
  c.jwt_secret = "fuzz-secret-0123456789abcdef0123456789";
  c.media_root = (scratch / "media").string();
  for (auto& [policy, rule] : c.rate_limits) rule = {.limit = 1'000'000'000, .window_seconds = 1};
  return c;
}

}  // namespace

struct AppFixture::Parts {
  fs::path scratch = make_scratch_dir();
  Config config = fuzz_config(scratch);
  metrics::Registry metrics;
  db::Pool db{db::PoolOptions{config.database_url, 1, std::chrono::milliseconds(0), config.db_statement_timeout_ms},
              metrics};
  auth::TokenSigner tokens{config.jwt_secret, config.access_token_ttl_seconds, config.jwt_leeway_seconds};
  http::Router router;
  ws::LiveHub hub{config, db, metrics};
  modules::Context context{.config = config,
                           .db = db,
                           .metrics = metrics,
                           .tokens = tokens,
                           .router = router,
                           .hub = hub,
                           .media_root = scratch / "media"};
  app::Modules modules{context, [this](const std::string& id) { hub.end_session(id); }};
  http::RateLimiter limiter{config.rate_limits};
  http::Pipeline pipeline{config, router, limiter, tokens, metrics};
  std::string admin_authorization =
      "Bearer " + tokens.issue({.id = 1, .username = "fuzz", .role = auth::Role::admin, .session_id = "fuzz"});
};

AppFixture& AppFixture::instance() {
  static AppFixture fixture;
  return fixture;
}

AppFixture::AppFixture() {
  spdlog::set_level(spdlog::level::off);  // every request would log its access line
  parts_ = std::make_unique<Parts>();
  fs::create_directories(parts_->context.media_root);
}

AppFixture::~AppFixture() {
  std::error_code ignored;
  fs::remove_all(parts_->scratch, ignored);
}

const std::string& AppFixture::admin_authorization() const { return parts_->admin_authorization; }

const http::Pipeline& AppFixture::pipeline() const { return parts_->pipeline; }

http::Response AppFixture::serve(http::Request& req) const {
  const auto started = std::chrono::steady_clock::now();
  const http::Pipeline& pipeline = parts_->pipeline;
  http::Prepared prepared = pipeline.route(req);
  const http::BodyPolicy policy = pipeline.body_policy(prepared);
  const fs::path body_file = parts_->scratch / "body";
  if (!prepared.response && req.body.size() > policy.limit) {
    prepared.response = http::error_response(ApiError(ErrorCode::payload_too_large, "Request body too large"));
  } else if (!prepared.response && policy.to_file) {
    std::ofstream(body_file, std::ios::binary | std::ios::trunc) << req.body;
    req.body.clear();
    req.body_file = body_file;
  }
  pipeline.admit(req, prepared);
  http::Response res = prepared.response ? *prepared.response : pipeline.invoke(prepared, req);
  pipeline.finish(req, prepared, res, started);
  std::error_code ignored;
  fs::remove(body_file, ignored);
  return res;
}

std::optional<std::string_view> request_line(std::string_view input, http::Request& req) {
  const std::size_t eol = input.find('\n');
  if (eol == std::string_view::npos) return std::nullopt;
  const std::string_view line = input.substr(0, eol);
  const std::size_t space = line.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  req.method = std::string(line.substr(0, space));
  const std::string_view target = line.substr(space + 1);
  const std::size_t second = target.find(' ');
  req.target = std::string(target.substr(0, second));
  req.headers["Content-Type"] =
      second == std::string_view::npos ? std::string("application/json") : std::string(target.substr(second + 1));
  req.remote_ip = "192.0.2.1";
  return input.substr(eol + 1);
}

void require_valid_response(const http::Response& res) {
  require(res.status >= 100 && res.status <= 599, "a status from 100 to 599");
  require(res.status != 500, "bad input never answers 500");
  if (res.status < 400) return;
  // Health probes answer 503 with their own report; every other error is the API's error body.
  const auto body = nlohmann::json::parse(res.body, nullptr, false);
  require(body.is_object(), "an error status carries a JSON object");
  if (!body.contains("error")) {
    require(res.status == 503 && body.contains("status") && body.contains("timestamp"), "only a health probe's 503 "
            "is not an API error body");
    return;
  }
  require(body["error"].is_string() && body.contains("message") && body["message"].is_string() &&
              body.contains("code") && body["code"] == res.status,
          "an error status carries the JSON error body");
}

}  // namespace reelhub::fuzz
