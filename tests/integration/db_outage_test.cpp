// Acceptance 5: PostgreSQL stops under a running server. Readiness and API calls answer 503
// promptly (no hang, no crash); when PostgreSQL is back, everything works again without a restart.

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <future>
#include <thread>
#include <vector>

#include "expectations.hpp"
#include "pg_cluster.hpp"
#include "server_process.hpp"
#include "stack.hpp"
#include "test_database.hpp"
#include "users.hpp"

namespace reelhub::testing {
namespace {

using namespace std::chrono_literals;

// "Promptly": a few seconds at most, whatever the pool's internal waits are.
constexpr auto kPrompt = 5s;

/// Runs `call` and fails the test when it takes longer than kPrompt.
template <class Fn>
HttpResponse timed(const char* what, Fn&& call) {
  const auto start = std::chrono::steady_clock::now();
  HttpResponse res = call();
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, kPrompt) << what << " took "
                           << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";
  return res;
}

/// Polls GET /health/ready until it answers `status`; the last response otherwise.
HttpResponse await_ready_status(const HttpClient& http, int status, std::chrono::seconds within) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  HttpResponse res = http.get("/health/ready");
  while (res.status != status && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
    res = http.get("/health/ready");
  }
  return res;
}

TEST(DbOutageTest, ServerAnswers503WhileDatabaseIsDownAndRecoversWithoutRestart) {
  PgCluster cluster;
  TestDatabase db(cluster.admin_url());
  ServerProcess server(ServerOptions{db.url(), relaxed_rate_limits()});
  const HttpClient http = server.http(std::chrono::duration_cast<std::chrono::milliseconds>(kPrompt * 2));

  const TestUser user = register_and_login(http, "outage");
  ASSERT_EQ(http.get("/health/ready").status, 200);
  ASSERT_EQ(http.get("/users/profile", user.auth()).status, 200);

  cluster.stop();

  auto ready = timed("GET /health/ready", [&] { return http.get("/health/ready"); });
  EXPECT_EQ(ready.status, 503) << ready;
  EXPECT_TRUE(is_json(ready));
  EXPECT_TRUE(is_api_error(timed("GET /users/profile", [&] { return http.get("/users/profile", user.auth()); }), 503));
  EXPECT_TRUE(is_api_error(timed("POST /auth/login", [&] {
                             return http.post_json("/auth/login", {{"email", user.email}, {"password", user.password}});
                           }),
                           503));
  EXPECT_TRUE(is_api_error(timed("GET /auth/validate", [&] { return http.get("/auth/validate", user.auth()); }), 503));

  // A burst larger than the connection pool: every request still gets a prompt 503.
  std::vector<std::future<HttpResponse>> burst;
  for (int i = 0; i < 16; ++i) {
    burst.push_back(std::async(std::launch::async, [&] {
      return timed("GET /users/profile (burst)", [&] { return http.get("/users/profile", user.auth()); });
    }));
  }
  for (auto& f : burst) EXPECT_TRUE(is_api_error(f.get(), 503));

  // Not crashed, still serving what needs no database.
  EXPECT_TRUE(server.running());
  EXPECT_EQ(http.get("/health/live").status, 200);
  EXPECT_EQ(http.get("/health").status, 200);

  cluster.start();

  auto back = await_ready_status(http, 200, 15s);
  EXPECT_EQ(back.status, 200) << "readiness did not recover after PostgreSQL came back: " << back;
  auto profile = http.get("/users/profile", user.auth());
  EXPECT_EQ(profile.status, 200) << profile;
  auto login = http.post_json("/auth/login", {{"email", user.email}, {"password", user.password}});
  EXPECT_EQ(login.status, 200) << login;
  EXPECT_EQ(http.get("/auth/validate", user.auth()).status, 200);
  // Writes work too.
  const TestUser after = register_and_login(http, "after");
  EXPECT_GT(after.id, user.id);

  server.send_signal(SIGTERM);
  EXPECT_TRUE(exits_cleanly(server));
}

}  // namespace
}  // namespace reelhub::testing
