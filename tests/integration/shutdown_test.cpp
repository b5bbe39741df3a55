// Acceptance 6: SIGTERM during a slow request. The request completes, new connections are
// refused, and the process exits 0. Each case runs its own server, since each one ends it.

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <pqxx/pqxx>
#include <thread>

#include "expectations.hpp"
#include "stack.hpp"
#include "users.hpp"

namespace reelhub::testing {
namespace {

using namespace std::chrono_literals;

/// Polls until a TCP connect to `port` fails; false when it still succeeds after `within`.
bool refuses_connections_within(std::uint16_t port, std::chrono::milliseconds within) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  while (can_connect(port, 500ms)) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

TEST(ShutdownTest, SigtermLetsTheSlowRequestFinishAndRefusesNewConnections) {
  Stack stack;
  ServerProcess& server = stack.server;
  const std::string name = unique_username("drain");
  const std::string body =
      nlohmann::json{{"username", name}, {"email", name + "@example.com"}, {"password", "password123"}}.dump();
  const std::size_t half = body.size() / 2;

  RawConnection slow(server.port(), 30s);
  // "100 Continue" proves the server has parsed the headers and is reading the body: the request
  // is in flight when SIGTERM lands.
  slow.send("POST /auth/register HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            "Expect: 100-continue\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n");
  ASSERT_EQ(slow.read_response().status, 100);
  slow.send(body.substr(0, half));

  server.send_signal(SIGTERM);
  EXPECT_TRUE(refuses_connections_within(server.port(), 5s)) << "new connections still accepted after SIGTERM";
  EXPECT_TRUE(server.running()) << "the server exited with a request in flight";

  slow.send(body.substr(half));
  HttpResponse res;
  ASSERT_NO_THROW(res = slow.read_response()) << "the in-flight request was dropped";
  EXPECT_EQ(res.status, 201) << res;
  EXPECT_EQ(res.json().at("user").at("username"), name) << res;

  EXPECT_TRUE(exits_cleanly(server, 15s)) << "after a drain with a request in flight";

  // The response was not a lie: the account was committed before the process went away.
  pqxx::connection conn(stack.db.url());
  pqxx::work tx(conn);
  EXPECT_EQ(tx.exec1("SELECT count(*) FROM users WHERE username = " + tx.quote(name))[0].as<int>(), 1);
}

TEST(ShutdownTest, IdleKeepAliveConnectionsDoNotDelayExit) {
  Stack stack;
  ServerProcess& server = stack.server;
  RawConnection idle(server.port(), 10s);
  idle.send(serialize_request("GET", "/health", "", {}, server.port()));
  ASSERT_EQ(idle.read_response().status, 200);  // the connection stays open, idle

  const auto start = std::chrono::steady_clock::now();
  server.send_signal(SIGTERM);
  EXPECT_TRUE(exits_cleanly(server, 15s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s)
      << "an idle keep-alive connection held the process up to the shutdown grace period";
}

TEST(ShutdownTest, GracePeriodBoundsTheDrain) {
  auto env = relaxed_rate_limits();
  env["REELHUB_SHUTDOWN_GRACE_SECONDS"] = "2";
  Stack stack(env);
  ServerProcess& server = stack.server;

  // A client that starts a request and never finishes it cannot keep the server alive.
  RawConnection stuck(server.port(), 30s);
  stuck.send("POST /auth/register HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
             "Expect: 100-continue\r\nContent-Length: 100\r\n\r\n");
  ASSERT_EQ(stuck.read_response().status, 100);
  stuck.send("{\"user");

  const auto start = std::chrono::steady_clock::now();
  server.send_signal(SIGTERM);
  EXPECT_TRUE(exits_cleanly(server, 15s));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 1500ms) << "the in-flight request was not given its grace period";
  EXPECT_LT(took, 6s) << "the drain outlived REELHUB_SHUTDOWN_GRACE_SECONDS=2";
}

}  // namespace
}  // namespace reelhub::testing
