// Acceptance 2: register -> login -> validate -> refresh -> reuse rejected -> logout, over HTTP
// against the real binary, with every seed 002 field present and of the right JSON type.

#include <gtest/gtest.h>

#include <algorithm>

#include "expectations.hpp"
#include "stack.hpp"
#include "users.hpp"

namespace reelhub::testing {
namespace {

class AuthFlowTest : public StackTest {
 protected:
  // Registers a fresh account through the API and returns its credentials (no tokens yet).
  static TestUser register_account(const std::string& role) {
    TestUser u;
    u.username = unique_username("auth");
    u.email = u.username + "@example.com";
    u.password = "correct-horse-battery";
    auto res = http().post_json("/auth/register",
                                {{"username", u.username}, {"email", u.email}, {"password", u.password}, {"role", role}});
    EXPECT_EQ(res.status, 201) << res;
    u.id = res.json().at("user").at("id").get<std::int64_t>();
    return u;
  }

  static void expect_login_shape(const HttpResponse& res, const TestUser& u, const std::string& role) {
    ASSERT_EQ(res.status, 200) << res;
    ASSERT_TRUE(is_json(res));
    const auto body = res.json();
    ASSERT_TRUE(body.at("access_token").is_string()) << body;
    const auto access = body["access_token"].get<std::string>();
    EXPECT_EQ(std::count(access.begin(), access.end(), '.'), 2) << "access_token is not a JWT: " << body;
    EXPECT_EQ(body.at("token_type"), "Bearer");
    ASSERT_TRUE(body.at("expires_in").is_number_integer()) << body;
    EXPECT_EQ(body["expires_in"].get<int>(), 3600);
    ASSERT_TRUE(body.at("refresh_token").is_string()) << body;
    EXPECT_FALSE(body["refresh_token"].get<std::string>().empty());
    const auto& user = body.at("user");
    ASSERT_TRUE(user.at("id").is_number_integer()) << body;
    EXPECT_EQ(user["id"].get<std::int64_t>(), u.id);
    EXPECT_EQ(user.at("username"), u.username);
    EXPECT_EQ(user.at("email"), u.email);
    EXPECT_EQ(user.at("role"), role);
    EXPECT_FALSE(user.contains("password_hash") || user.contains("password")) << body;
  }

  static HttpResponse login(const TestUser& u) {
    return http().post_json("/auth/login", {{"email", u.email}, {"password", u.password}});
  }
  static HttpResponse refresh(const std::string& refresh_token) {
    return http().post_json("/auth/refresh", {{"refresh_token", refresh_token}});
  }
  static HttpResponse validate(const std::string& access_token) {
    return http().get("/auth/validate", bearer(access_token));
  }
};

TEST_F(AuthFlowTest, RegisterAnswersTheSeedShape) {
  const std::string username = unique_username("seed");
  auto res = http().post_json("/auth/register", {{"username", username},
                                                 {"email", username + "@example.com"},
                                                 {"password", "password123"},
                                                 {"role", "streamer"}});
  ASSERT_EQ(res.status, 201) << res;
  ASSERT_TRUE(is_json(res));
  const auto body = res.json();
  EXPECT_EQ(body.at("message"), "User registered successfully");
  const auto& user = body.at("user");
  ASSERT_TRUE(user.at("id").is_number_integer()) << body;
  EXPECT_GT(user["id"].get<std::int64_t>(), 0);
  EXPECT_EQ(user.at("username"), username);
  EXPECT_EQ(user.at("email"), username + "@example.com");
  EXPECT_EQ(user.at("role"), "streamer");
  ASSERT_TRUE(user.at("is_active").is_boolean()) << body;
  EXPECT_TRUE(user["is_active"].get<bool>());
  ASSERT_TRUE(user.at("created_at").is_string()) << body;
  EXPECT_TRUE(is_iso8601_utc(user["created_at"].get<std::string>())) << user["created_at"];
  EXPECT_FALSE(user.contains("password_hash") || user.contains("password")) << body;
}

TEST_F(AuthFlowTest, RoleDefaultsToViewer) {
  const std::string username = unique_username("dflt");
  auto res = http().post_json("/auth/register",
                              {{"username", username}, {"email", username + "@example.com"}, {"password", "password123"}});
  ASSERT_EQ(res.status, 201) << res;
  EXPECT_EQ(res.json().at("user").at("role"), "viewer");
}

TEST_F(AuthFlowTest, AdminCannotSelfRegister) {
  const std::string username = unique_username("boss");
  auto res = http().post_json("/auth/register", {{"username", username},
                                                 {"email", username + "@example.com"},
                                                 {"password", "password123"},
                                                 {"role", "admin"}});
  EXPECT_TRUE(is_api_error(res, 403));
  // Nothing was created: the same e-mail can still register as a viewer.
  auto again = http().post_json("/auth/register",
                                {{"username", username}, {"email", username + "@example.com"}, {"password", "password123"}});
  EXPECT_EQ(again.status, 201) << again;
}

TEST_F(AuthFlowTest, LoginValidateRefreshReuseLogout) {
  const TestUser u = register_account("streamer");

  // login
  auto login_res = login(u);
  expect_login_shape(login_res, u, "streamer");
  const auto tokens = login_res.json();
  const std::string access1 = tokens["access_token"], refresh1 = tokens["refresh_token"];

  // validate
  auto v = validate(access1);
  ASSERT_EQ(v.status, 200) << v;
  ASSERT_TRUE(is_json(v));
  const auto vbody = v.json();
  ASSERT_TRUE(vbody.at("valid").is_boolean()) << vbody;
  EXPECT_TRUE(vbody["valid"].get<bool>());
  ASSERT_TRUE(vbody.at("user").at("id").is_number_integer()) << vbody;
  EXPECT_EQ(vbody["user"]["id"].get<std::int64_t>(), u.id);
  EXPECT_EQ(vbody["user"].at("username"), u.username);
  EXPECT_EQ(vbody["user"].at("role"), "streamer");

  // refresh: a new pair, the new access token works
  auto r1 = refresh(refresh1);
  expect_login_shape(r1, u, "streamer");
  const std::string access2 = r1.json()["access_token"], refresh2 = r1.json()["refresh_token"];
  EXPECT_NE(refresh2, refresh1) << "refresh must rotate the refresh token";
  EXPECT_EQ(validate(access2).status, 200);

  // reuse of the rotated-out token (once the retry grace window has passed: the rotation is
  // backdated) is refused and revokes the whole family, so the newest refresh token (held by
  // whoever stole or raced it) stops working too
  stack().db.exec("UPDATE refresh_tokens SET used_at = used_at - interval '1 minute' WHERE used_at IS NOT NULL");
  EXPECT_TRUE(is_api_error(refresh(refresh1), 401));
  EXPECT_TRUE(is_api_error(refresh(refresh2), 401));

  // a new session: logout ends it, its access token no longer validates, its refresh token is dead
  auto login2 = login(u);
  ASSERT_EQ(login2.status, 200) << login2;
  const std::string access3 = login2.json()["access_token"], refresh3 = login2.json()["refresh_token"];
  ASSERT_EQ(validate(access3).status, 200);
  auto out = http().request("POST", "/auth/logout", "", bearer(access3));
  EXPECT_EQ(out.status, 200) << out;
  EXPECT_TRUE(is_api_error(validate(access3), 401));
  EXPECT_TRUE(is_api_error(refresh(refresh3), 401));
}

TEST_F(AuthFlowTest, RepeatedRotationKeepsWorking) {
  const TestUser u = register_account("viewer");
  auto res = login(u);
  ASSERT_EQ(res.status, 200) << res;
  std::string token = res.json()["refresh_token"];
  // A well-behaved client rotates several times in a row without tripping reuse detection.
  for (int i = 0; i < 3; ++i) {
    auto r = refresh(token);
    ASSERT_EQ(r.status, 200) << "rotation " << i << ": " << r;
    token = r.json()["refresh_token"];
  }
  auto last = refresh(token);
  EXPECT_EQ(last.status, 200) << last;
}

TEST_F(AuthFlowTest, LoginByUsername) {
  const TestUser u = register_account("viewer");
  auto res = http().post_json("/auth/login", {{"username", u.username}, {"password", u.password}});
  expect_login_shape(res, u, "viewer");
  EXPECT_EQ(validate(res.json()["access_token"]).status, 200);
}

TEST_F(AuthFlowTest, LogoutWithoutTokenIs401) {
  EXPECT_TRUE(is_api_error(http().request("POST", "/auth/logout"), 401));
  EXPECT_TRUE(is_api_error(http().get("/auth/validate"), 401));
}

TEST_F(AuthFlowTest, SessionsAreIndependent) {
  // Logging out of one device leaves the other signed in.
  const TestUser u = register_account("viewer");
  auto a = login(u), b = login(u);
  ASSERT_EQ(a.status, 200) << a;
  ASSERT_EQ(b.status, 200) << b;
  auto out = http().request("POST", "/auth/logout", "", bearer(a.json()["access_token"]));
  ASSERT_EQ(out.status, 200) << out;
  EXPECT_EQ(validate(b.json()["access_token"]).status, 200);
  EXPECT_EQ(refresh(b.json()["refresh_token"]).status, 200);
}

}  // namespace
}  // namespace reelhub::testing
