// AuthService against a real, freshly migrated PostgreSQL database: registration, login, refresh
// rotation with reuse detection, logout and expiry.

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "modules/auth/service.hpp"
#include "reelhub/core/error.hpp"
#include "reelhub/core/random.hpp"
#include "reelhub/metrics/registry.hpp"
#include "test_database.hpp"

namespace reelhub::auth {
namespace {

constexpr const char* kPassword = "s3cret-passw0rd";

class AuthServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { database_ = std::make_unique<reelhub::testing::TestDatabase>(); }
  static void TearDownTestSuite() { database_.reset(); }

  /// Registers a fresh viewer; names are random so tests do not depend on one another.
  users::Account register_viewer() {
    const auto name = "u_" + random_hex(6);
    return service_.register_user({name, name + "@example.com", kPassword, auth::Role::viewer});
  }

  /// The caller as the HTTP layer would see it after verifying the access token.
  auth::AuthUser caller(const IssuedTokens& tokens) const { return signer_.verify(tokens.access_token); }

  static void expect_unauthorized(const std::function<void()>& fn) {
    try {
      fn();
      ADD_FAILURE() << "expected 401";
    } catch (const ApiError& e) {
      EXPECT_EQ(e.code(), ErrorCode::unauthorized) << e.what();
    }
  }

  static inline std::unique_ptr<reelhub::testing::TestDatabase> database_;
  metrics::Registry metrics_;
  db::Pool pool_{db::PoolOptions{database_->url(), 2}, metrics_};
  TokenSigner signer_{"auth-service-test-secret-0123456789", 3600, 30};
  /// Makes the refresh tokens of `session_id` look rotated `seconds` ago: past the reuse grace window.
  void age_rotations(const std::string& session_id, int seconds) {
    database_->exec("UPDATE refresh_tokens SET used_at = used_at - interval '" + std::to_string(seconds) +
                    " seconds' WHERE session_id = '" + session_id + "' AND used_at IS NOT NULL");
  }

  std::mutex ended_mutex_;
  std::vector<std::string> ended_;  // sessions the service reported as ended
  AuthService service_{pool_, signer_,
                       {.refresh_ttl_seconds = 3600,
                        .reuse_grace_seconds = 10,
                        .on_session_ended = [this](const std::string& id) {
                          std::lock_guard lock(ended_mutex_);
                          ended_.push_back(id);
                        }}};
};

TEST_F(AuthServiceTest, RegisterThenLoginByEmailOrUsername) {
  const auto account = register_viewer();
  EXPECT_GT(account.id, 0);
  EXPECT_EQ(account.role, auth::Role::viewer);
  EXPECT_TRUE(account.is_active);
  EXPECT_NE(account.password_hash, kPassword);

  const auto by_email = service_.login(account.email, kPassword);
  EXPECT_EQ(by_email.account.id, account.id);
  EXPECT_EQ(by_email.expires_in, 3600);
  EXPECT_FALSE(by_email.refresh_token.empty());
  const auto user = caller(by_email);
  EXPECT_EQ(user.id, account.id);
  EXPECT_EQ(user.username, account.username);
  EXPECT_FALSE(user.session_id.empty());

  const auto by_name = service_.login(account.username, kPassword);
  EXPECT_NE(caller(by_name).session_id, user.session_id) << "every login starts its own session";
  EXPECT_EQ(service_.validate(caller(by_name)).id, account.id);
}

TEST_F(AuthServiceTest, RegisterRefusesAdminAndDuplicates) {
  const auto name = "u_" + random_hex(6);
  try {
    service_.register_user({name, name + "@example.com", kPassword, auth::Role::admin});
    ADD_FAILURE() << "admin self-registration accepted";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.code(), ErrorCode::forbidden);
  }
  const auto account = register_viewer();
  try {
    service_.register_user({"u_" + random_hex(6), account.email, kPassword, auth::Role::viewer});
    ADD_FAILURE() << "duplicate e-mail accepted";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.code(), ErrorCode::conflict);
  }
}

TEST_F(AuthServiceTest, WrongPasswordAndUnknownAccountFailAlike) {
  const auto account = register_viewer();
  std::string wrong_password_message, unknown_message;
  try {
    service_.login(account.email, "not-the-password");
  } catch (const ApiError& e) {
    EXPECT_EQ(e.code(), ErrorCode::unauthorized);
    wrong_password_message = e.what();
  }
  try {
    service_.login("nobody_" + random_hex(6) + "@example.com", kPassword);
  } catch (const ApiError& e) {
    EXPECT_EQ(e.code(), ErrorCode::unauthorized);
    unknown_message = e.what();
  }
  EXPECT_EQ(wrong_password_message, "Invalid credentials");
  EXPECT_EQ(unknown_message, wrong_password_message);
}

TEST_F(AuthServiceTest, RefreshRotatesWithinTheSession) {
  const auto account = register_viewer();
  const auto first = service_.login(account.email, kPassword);
  const auto second = service_.refresh(first.refresh_token);
  EXPECT_NE(second.refresh_token, first.refresh_token);
  EXPECT_EQ(second.account.id, account.id);
  EXPECT_EQ(caller(second).session_id, caller(first).session_id);
  const auto third = service_.refresh(second.refresh_token);
  EXPECT_EQ(caller(third).session_id, caller(first).session_id);
  EXPECT_EQ(service_.validate(caller(third)).id, account.id);
}

TEST_F(AuthServiceTest, ReusedRefreshTokenRevokesTheWholeFamily) {
  const auto account = register_viewer();
  const auto first = service_.login(account.email, kPassword);
  const auto other_session = service_.login(account.email, kPassword);
  const auto second = service_.refresh(first.refresh_token);
  age_rotations(caller(first).session_id, 11);

  expect_unauthorized([&] { service_.refresh(first.refresh_token); });  // replay of a rotated-out token
  expect_unauthorized([&] { service_.refresh(second.refresh_token); });  // its successor dies with it
  expect_unauthorized([&] { service_.validate(caller(second)); });
  expect_unauthorized([&] { service_.validate(caller(first)); });

  // Only the compromised family ends; the user's other login is untouched.
  EXPECT_EQ(service_.validate(caller(other_session)).id, account.id);
  EXPECT_NO_THROW(service_.refresh(other_session.refresh_token));
  EXPECT_EQ(ended_, std::vector<std::string>{caller(first).session_id}) << "the caches were told";
}

TEST_F(AuthServiceTest, RefreshRetriedWithinTheGraceWindowGetsAnotherValidPair) {
  const auto account = register_viewer();
  const auto first = service_.login(account.email, kPassword);
  const auto sid = caller(first).session_id;

  // Two refreshes of one token at once (a client retry): both succeed, in the same session.
  std::optional<IssuedTokens> a, b;
  std::thread racer([&] { a = service_.refresh(first.refresh_token); });
  b = service_.refresh(first.refresh_token);
  racer.join();
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->refresh_token, b->refresh_token);
  EXPECT_EQ(caller(*a).session_id, sid);
  EXPECT_EQ(caller(*b).session_id, sid);
  EXPECT_TRUE(service_.session_live(caller(*b)));

  // Whichever answer the client kept goes on working.
  const auto next = service_.refresh(b->refresh_token);
  EXPECT_EQ(service_.validate(caller(next)).id, account.id);
  EXPECT_TRUE(ended_.empty());
  // Once a successor was used, the old token is reuse even inside the window.
  expect_unauthorized([&] { service_.refresh(first.refresh_token); });
  expect_unauthorized([&] { service_.validate(caller(next)); });
}

TEST_F(AuthServiceTest, SessionLiveFollowsLogoutAndDeactivation) {
  const auto account = register_viewer();
  const auto kept = service_.login(account.email, kPassword);
  const auto ended = service_.login(account.email, kPassword);
  EXPECT_TRUE(service_.session_live(caller(kept)));
  service_.logout(caller(ended), std::nullopt);
  EXPECT_FALSE(service_.session_live(caller(ended)));
  EXPECT_EQ(ended_, std::vector<std::string>{caller(ended).session_id});
  EXPECT_TRUE(service_.session_live(caller(kept)));
  database_->exec("UPDATE users SET is_active = false WHERE id = " + std::to_string(account.id));
  EXPECT_FALSE(service_.session_live(caller(kept)));
}

TEST_F(AuthServiceTest, LogoutEndsTheSession) {
  const auto account = register_viewer();
  const auto session = service_.login(account.email, kPassword);
  const auto other_session = service_.login(account.email, kPassword);
  EXPECT_EQ(service_.validate(caller(session)).id, account.id);

  service_.logout(caller(session), std::nullopt);
  expect_unauthorized([&] { service_.validate(caller(session)); });
  expect_unauthorized([&] { service_.refresh(session.refresh_token); });
  EXPECT_NO_THROW(service_.logout(caller(session), std::nullopt)) << "logout is idempotent";
  EXPECT_EQ(service_.validate(caller(other_session)).id, account.id);
}

TEST_F(AuthServiceTest, LogoutWithRefreshTokenEndsOnlyTheCallersSessions) {
  const auto account = register_viewer();
  const auto stranger = register_viewer();
  const auto current = service_.login(account.email, kPassword);
  const auto older = service_.login(account.email, kPassword);
  const auto strangers = service_.login(stranger.email, kPassword);

  service_.logout(caller(current), older.refresh_token);
  expect_unauthorized([&] { service_.validate(caller(older)); });
  expect_unauthorized([&] { service_.validate(caller(current)); });

  // Someone else's refresh token does not let a caller end that person's session.
  const auto mine = service_.login(account.email, kPassword);
  service_.logout(caller(mine), strangers.refresh_token);
  EXPECT_EQ(service_.validate(caller(strangers)).id, stranger.id);
}

TEST_F(AuthServiceTest, ExpiredRefreshTokenIsRejectedWithoutRevokingTheSession) {
  const auto account = register_viewer();
  const auto session = service_.login(account.email, kPassword);
  const auto sid = caller(session).session_id;
  database_->exec("UPDATE refresh_tokens SET expires_at = now() - interval '1 second' WHERE session_id = '" + sid +
                  "'");
  expect_unauthorized([&] { service_.refresh(session.refresh_token); });
  EXPECT_EQ(service_.validate(caller(session)).id, account.id) << "expiry is not reuse";
}

TEST_F(AuthServiceTest, UnknownRefreshTokenAndForeignSessionAreRejected) {
  expect_unauthorized([&] { service_.refresh(random_token(32)); });
  const auto account = register_viewer();
  auto forged = caller(service_.login(account.email, kPassword));
  forged.session_id = "not-a-uuid";
  expect_unauthorized([&] { service_.validate(forged); });
  forged.session_id = "00000000-0000-0000-0000-000000000000";
  expect_unauthorized([&] { service_.validate(forged); });
}

TEST_F(AuthServiceTest, DisabledAccountCannotLogInRefreshOrValidate) {
  const auto account = register_viewer();
  const auto session = service_.login(account.email, kPassword);
  database_->exec("UPDATE users SET is_active = false WHERE id = " + std::to_string(account.id));

  try {
    service_.login(account.email, kPassword);
    ADD_FAILURE() << "disabled account logged in";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.code(), ErrorCode::forbidden);
    EXPECT_STREQ(e.what(), "Account disabled");
  }
  expect_unauthorized([&] { service_.login(account.email, "wrong-password"); });
  expect_unauthorized([&] { service_.validate(caller(session)); });
  expect_unauthorized([&] { service_.refresh(session.refresh_token); });
}

}  // namespace
}  // namespace reelhub::auth
