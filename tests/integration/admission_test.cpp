// Issue 9, item 3: a request is routed, authenticated and rate-limited on its header, before
// any of its body is read; connections per client address are capped; request bodies held in
// memory share one budget. Each case sends a header that promises a body and never sends it:
// a server that reads bodies first would sit waiting for it and the case would time out.

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "expectations.hpp"
#include "stack.hpp"
#include "ws_client.hpp"

namespace reelhub::testing {
namespace {

constexpr std::size_t kBodyLimit = 64 * 1024;
constexpr int kPerIp = 6;

std::map<std::string, std::string> admission_env() {
  auto env = relaxed_rate_limits();
  env["REELHUB_BODY_LIMIT_BYTES"] = std::to_string(kBodyLimit);
  env["REELHUB_AVATAR_LIMIT_BYTES"] = std::to_string(kBodyLimit);
  env["REELHUB_FILES_MAX_BYTES"] = std::to_string(kBodyLimit);  // in-memory bodies too: at most half the budget
  env["REELHUB_BODY_MEMORY_BUDGET_BYTES"] = std::to_string(2 * kBodyLimit);  // two full bodies at once
  env["REELHUB_MAX_CONNECTIONS_PER_IP"] = std::to_string(kPerIp);
  return env;
}

class AdmissionTest : public StackTest {
 protected:
  static void SetUpTestSuite() { start_stack(admission_env()); }

  /// A connection that has sent `method target` with a header promising `length` body bytes.
  static std::unique_ptr<RawConnection> promise_body(const std::string& method, const std::string& target,
                                                     std::size_t length, const Headers& extra = {}) {
    auto conn = std::make_unique<RawConnection>(stack().server.port(), std::chrono::seconds(5));
    std::string head = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n";
    for (const auto& [name, value] : extra) head += name + ": " + value + "\r\n";
    head += "Content-Length: " + std::to_string(length) + "\r\n\r\n";
    conn->send(head);
    return conn;
  }
};

TEST_F(AdmissionTest, UnroutableRequestIsAnsweredBeforeItsBody) {
  EXPECT_TRUE(is_api_error(promise_body("POST", "/no/such/route", kBodyLimit)->read_response(), 404));
  EXPECT_TRUE(is_api_error(promise_body("PATCH", "/health", kBodyLimit)->read_response(), 405));
}

TEST_F(AdmissionTest, UnauthenticatedRequestIsAnsweredBeforeItsBody) {
  EXPECT_TRUE(is_api_error(promise_body("POST", "/chats/create", kBodyLimit)->read_response(), 401));
  EXPECT_TRUE(is_api_error(
      promise_body("POST", "/chats/create", kBodyLimit, {{"Authorization", "Bearer not-a-token"}})->read_response(), 401));
}

TEST_F(AdmissionTest, RefusedRequestWithoutBodyKeepsTheConnection) {
  RawConnection conn(stack().server.port(), std::chrono::seconds(5));
  conn.send(serialize_request("GET", "/no/such/route", "", {}, stack().server.port()));
  EXPECT_TRUE(is_api_error(conn.read_response(), 404));
  conn.send(serialize_request("GET", "/health/live", "", {}, stack().server.port()));
  EXPECT_EQ(conn.read_response().status, 200);
}

TEST_F(AdmissionTest, BodiesInMemoryShareOneBudget) {
  // Two bodies fill the budget while their senders stall; a third is refused at its header.
  auto first = promise_body("POST", "/auth/login", kBodyLimit);
  auto second = promise_body("POST", "/auth/login", kBodyLimit);
  // The first two are read, not answered: wait until the server has reserved both.
  ASSERT_TRUE(eventually([] { return metric_value(http(), "reelhub_http_body_memory_bytes") == 2 * kBodyLimit; }));
  const auto refused = promise_body("POST", "/auth/login", kBodyLimit)->read_response();
  EXPECT_TRUE(is_api_error(refused, 503)) << refused;
  EXPECT_EQ(refused.header("Retry-After"), "1") << refused;

  // A finished body gives its share back.
  first->send(std::string(kBodyLimit, ' '));
  EXPECT_TRUE(is_api_error(first->read_response(), 400));
  ASSERT_TRUE(eventually([] { return metric_value(http(), "reelhub_http_body_memory_bytes") == kBodyLimit; }));
  const auto small = http().post_json("/auth/login", {{"email", "nobody@example.com"}, {"password", "wrong-password"}});
  EXPECT_TRUE(is_api_error(small, 401)) << small;
}

TEST_F(AdmissionTest, ConnectionsPerAddressAreCapped) {
  // The server counts a connection once it has accepted it: the first request on each proves
  // that. Connections of earlier cases (a lingering refused body, a closed client the server has
  // not yet seen close) may still hold places for a moment, so a refused one is tried again.
  std::vector<std::unique_ptr<RawConnection>> held;
  while (held.size() < static_cast<std::size_t>(kPerIp)) {
    ASSERT_TRUE(eventually([&] {
      auto conn = std::make_unique<RawConnection>(stack().server.port(), std::chrono::seconds(5));
      conn->send(serialize_request("GET", "/health/live", "", {}, stack().server.port()));
      if (conn->read_response().status != 200) return false;
      held.push_back(std::move(conn));
      return true;
    }));
  }
  RawConnection over(stack().server.port(), std::chrono::seconds(5));
  const auto refused = over.read_response();
  EXPECT_TRUE(is_api_error(refused, 429)) << refused;

  held.pop_back();  // one place frees up once the server sees the close
  EXPECT_TRUE(eventually([] {
    try {
      return http().get("/health/live").status == 200;
    } catch (const std::exception&) {
      return false;
    }
  }));
  held.clear();
  EXPECT_TRUE(eventually([] {
    const auto metrics = http().get("/metrics").body;
    return metrics.find("reelhub_http_connections_refused_total{reason=\"per_ip\"}") != std::string::npos;
  }));
}

}  // namespace
}  // namespace reelhub::testing
