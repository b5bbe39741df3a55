// Hardening issue 9, items 4 and 13, against the real server: an access token stops working on
// every authenticated route once its session ends (logout, refresh-token reuse, deactivation),
// WebSockets close with 4401 at token expiry and when their session ends (unless renewed on the
// open socket), and a refresh retried within the grace window is not taken for reuse.

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <thread>

#include "expectations.hpp"
#include "hub_instance.hpp"
#include "reelhub/auth/tokens.hpp"
#include "reelhub/core/time.hpp"
#include "stack.hpp"
#include "users.hpp"
#include "ws_client.hpp"

namespace reelhub::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

class SessionsTest : public StackTest {
 protected:
  // The default session cache TTL (5 s): what ends a session here must act at once, not at the
  // next lookup. No leeway, so a token's expiry is exactly its exp.
  static void SetUpTestSuite() { start_stack(ws_env({{"REELHUB_JWT_LEEWAY_SECONDS", "0"}})); }

  std::uint16_t port() { return stack().server.port(); }

  /// GET /users/profile, a blocking route that needs a user.
  static int profile_status(const std::string& access_token) {
    return http().get("/users/profile", bearer(access_token)).status;
  }
  static HttpResponse refresh(const std::string& refresh_token) {
    return http().post_json("/auth/refresh", {{"refresh_token", refresh_token}});
  }
  static HttpResponse logout(const std::string& access_token) {
    return http().request("POST", "/auth/logout", "", bearer(access_token));
  }
  /// Makes every rotation of `user`'s sessions look older than the reuse grace window.
  static void age_rotations(const TestUser& user) {
    stack().db.exec("UPDATE refresh_tokens t SET used_at = used_at - interval '1 minute' FROM auth_sessions s "
                    "WHERE s.id = t.session_id AND s.user_id = " + std::to_string(user.id) +
                    " AND t.used_at IS NOT NULL");
  }
  /// The claims of a token this server issued.
  static auth::AuthUser claims_of(const std::string& access_token) {
    return auth::TokenSigner(stack().server.jwt_secret(), 3600, 0).verify(access_token);
  }
  /// An access token for the same user and session as `access_token`, valid for `ttl_seconds`.
  static std::string short_lived(const std::string& access_token, int ttl_seconds) {
    return auth::TokenSigner(stack().server.jwt_secret(), ttl_seconds, 0).issue(claims_of(access_token));
  }
  std::unique_ptr<WsClient> connect(const std::string& access_token) {
    auto ws = std::make_unique<WsClient>(port(), ws_with_token(access_token));
    const json hello = ws->receive();
    EXPECT_EQ(hello.value("type", ""), "authenticated") << hello;
    return ws;
  }
};

TEST_F(SessionsTest, LogoutStopsTheAccessTokenOnOrdinaryRoutes) {
  const TestUser user = register_and_login(http(), "slo");
  const TestUser other = register_and_login(http(), "slo");
  ASSERT_EQ(profile_status(user.access_token), 200);  // the session is now cached as live
  ASSERT_EQ(logout(user.access_token).status, 200);
  EXPECT_TRUE(is_api_error(http().get("/users/profile", user.auth()), 401));
  EXPECT_TRUE(is_api_error(http().get("/users/search?q=a", user.auth()), 401));
  EXPECT_EQ(profile_status(other.access_token), 200) << "only that session ended";
}

TEST_F(SessionsTest, RefreshTokenReuseStopsEveryAccessTokenOfTheSession) {
  const TestUser user = register_and_login(http(), "sre");
  const auto rotated = refresh(user.refresh_token);
  ASSERT_EQ(rotated.status, 200) << rotated;
  const std::string access2 = rotated.json().at("access_token");
  ASSERT_EQ(profile_status(access2), 200);
  age_rotations(user);

  EXPECT_TRUE(is_api_error(refresh(user.refresh_token), 401)) << "reuse after the grace window";
  EXPECT_EQ(profile_status(access2), 401);
  EXPECT_EQ(profile_status(user.access_token), 401);
}

TEST_F(SessionsTest, DeactivationStopsTheAccessTokenAndClosesItsSockets) {
  const TestUser user = register_and_login(http(), "sde");
  ASSERT_EQ(profile_status(user.access_token), 200);
  auto ws = connect(user.access_token);
  // No route deactivates accounts; an operator does it in SQL. The cache learns it within its TTL.
  stack().db.exec("UPDATE users SET is_active = false WHERE id = " + std::to_string(user.id));
  EXPECT_TRUE(eventually([&] { return profile_status(user.access_token) == 401; }, 10s));
  EXPECT_EQ(ws->await_close(10s), 4401);
}

TEST_F(SessionsTest, ConcurrentRefreshesOfOneTokenBothSucceed) {
  const TestUser user = register_and_login(http(), "scr");
  std::optional<HttpResponse> first;
  std::thread racer([&] { first = refresh(user.refresh_token); });
  const HttpResponse second = refresh(user.refresh_token);
  racer.join();
  ASSERT_EQ(first->status, 200) << *first;
  ASSERT_EQ(second.status, 200) << second;
  const json a = first->json(), b = second.json();
  EXPECT_EQ(claims_of(a.at("access_token")).session_id, claims_of(b.at("access_token")).session_id);
  EXPECT_EQ(profile_status(a.at("access_token")), 200);
  EXPECT_EQ(profile_status(b.at("access_token")), 200);
  const auto next = refresh(b.at("refresh_token"));
  ASSERT_EQ(next.status, 200) << next << "the session stays usable";
  EXPECT_EQ(http().get("/auth/validate", bearer(next.json().at("access_token"))).status, 200);
}

TEST_F(SessionsTest, RepeatAfterTheGraceWindowStillRevokes) {
  const TestUser user = register_and_login(http(), "sgr");
  const auto rotated = refresh(user.refresh_token);
  ASSERT_EQ(rotated.status, 200) << rotated;
  age_rotations(user);
  EXPECT_TRUE(is_api_error(refresh(user.refresh_token), 401));
  EXPECT_TRUE(is_api_error(refresh(rotated.json().at("refresh_token")), 401)) << "the session was revoked";
  EXPECT_EQ(profile_status(rotated.json().at("access_token")), 401);
}

TEST_F(SessionsTest, SocketClosesWith4401WhenItsTokenExpires) {
  const TestUser user = register_and_login(http(), "sex");
  auto ws = connect(short_lived(user.access_token, 2));
  EXPECT_EQ(ws->await_close(10s), 4401);
}

TEST_F(SessionsTest, RenewingTheTokenOnTheOpenSocketKeepsItOpen) {
  const TestUser user = register_and_login(http(), "srn");
  const std::string short_token = short_lived(user.access_token, 2);
  const auto old_expiry = claims_of(short_token).valid_until;
  auto ws = connect(short_token);
  ws->send({{"type", "authenticate"}, {"token", user.access_token}, {"id", "renew"}});
  const json renewed = ws->receive_until("authenticated", "renew");
  EXPECT_EQ(renewed.at("user_id"), user.id);
  EXPECT_GT(renewed.at("expires_at").get<std::string>(), iso8601(old_expiry));
  // Nothing happens at the old expiry that could be awaited: wait it out, then the socket answers.
  std::this_thread::sleep_until(old_expiry + 1s);
  ws->send({{"type", "ping"}, {"id", 1}});
  EXPECT_EQ(ws->receive_until("pong", 1).at("type"), "pong");

  // A token of another user does not take the socket over.
  const TestUser other = register_and_login(http(), "srn");
  ws->send({{"type", "authenticate"}, {"token", other.access_token}, {"id", "steal"}});
  const json refused = ws->receive_until("error", "steal");
  EXPECT_EQ(refused.at("code"), 403);
}

TEST_F(SessionsTest, LogoutClosesTheSessionsSocketsWith4401) {
  const TestUser user = register_and_login(http(), "swl");
  auto ws = connect(user.access_token);
  ASSERT_EQ(logout(user.access_token).status, 200);
  EXPECT_EQ(ws->await_close(10s), 4401);
  EXPECT_THROW(connect(user.access_token), WsClosed) << "the ended session cannot open a new socket";
}

TEST_F(SessionsTest, ASessionEndedOnAnotherInstanceEndsHereToo) {
  const TestUser user = register_and_login(http(), "sxi");
  ASSERT_EQ(profile_status(user.access_token), 200);  // cached as live for the next 5 s
  auto ws = connect(user.access_token);
  // Another instance announces the revocation. The database still says live, so only the relay
  // through the hub's channel can make this instance refuse the token.
  HubInstance other(stack().db.url());
  other.hub().end_session(claims_of(user.access_token).session_id);
  EXPECT_EQ(ws->await_close(10s), 4401);
  EXPECT_EQ(profile_status(user.access_token), 401);
}

}  // namespace
}  // namespace reelhub::testing
