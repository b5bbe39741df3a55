// Acceptance 4: with the default limits, the 11th login within a minute from one IP gets 429
// with Retry-After and the X-RateLimit-* headers of seed 004.

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "expectations.hpp"
#include "stack.hpp"
#include "users.hpp"

namespace reelhub::testing {
namespace {

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::int64_t integer_header(const HttpResponse& res, const std::string& name) {
  const auto value = res.header(name);
  std::size_t used = 0;
  const long long n = value.empty() ? 0 : std::stoll(value, &used);
  if (value.empty() || used != value.size()) throw std::runtime_error(name + " is not an integer: '" + value + "'");
  return n;
}

class RateLimitTest : public StackTest {
 protected:
  // The server's own defaults: no REELHUB_RATE_LIMITS override.
  static void SetUpTestSuite() { start_stack({}); }
};

TEST_F(RateLimitTest, EleventhLoginInAMinuteIs429) {
  const std::string name = unique_username("limit");
  const std::string password = "password123";
  auto reg = http().post_json("/auth/register",
                              {{"username", name}, {"email", name + "@example.com"}, {"password", password}});
  ASSERT_EQ(reg.status, 201) << reg;

  // Ten attempts are allowed whatever their outcome: the budget counts attempts, not failures.
  std::string access_token;
  for (int i = 0; i < 10; ++i) {
    const bool correct = i % 2 == 0;
    auto res = http().post_json("/auth/login",
                                {{"email", name + "@example.com"}, {"password", correct ? password : "wrong-password"}});
    ASSERT_EQ(res.status, correct ? 200 : 401) << "attempt " << i + 1 << ": " << res;
    if (correct) access_token = res.json()["access_token"];
    EXPECT_EQ(integer_header(res, "X-RateLimit-Limit"), 10) << res;
    EXPECT_EQ(integer_header(res, "X-RateLimit-Remaining"), 9 - i) << res;
    // Seed 004: X-RateLimit-Reset is the Unix time at which the window resets.
    const auto reset = integer_header(res, "X-RateLimit-Reset");
    EXPECT_GE(reset, unix_now() - 1) << res;
    EXPECT_LE(reset, unix_now() + 61) << res;
  }

  auto refused = http().post_json("/auth/login", {{"email", name + "@example.com"}, {"password", password}});
  ASSERT_TRUE(is_api_error(refused, 429));
  const auto retry_after = integer_header(refused, "Retry-After");
  EXPECT_GE(retry_after, 1) << refused;
  EXPECT_LE(retry_after, 60) << refused;
  const auto body = refused.json();
  ASSERT_TRUE(body.contains("retry_after") && body["retry_after"].is_number_integer()) << refused;
  EXPECT_EQ(body["retry_after"].get<std::int64_t>(), retry_after) << refused;
  EXPECT_EQ(integer_header(refused, "X-RateLimit-Limit"), 10) << refused;
  EXPECT_EQ(integer_header(refused, "X-RateLimit-Remaining"), 0) << refused;
  const auto reset = integer_header(refused, "X-RateLimit-Reset");
  EXPECT_GE(reset, unix_now() - 1) << refused;
  EXPECT_LE(reset, unix_now() + 61) << refused;

  // Still refused while the window lasts, even with correct credentials.
  EXPECT_TRUE(is_api_error(http().post_json("/auth/login", {{"username", name}, {"password", password}}), 429));

  // Other budgets are untouched: registration has its own, the general API counts per user,
  // and health checks are not limited at all.
  const std::string other = unique_username("limit");
  auto reg2 = http().post_json("/auth/register",
                               {{"username", other}, {"email", other + "@example.com"}, {"password", password}});
  EXPECT_EQ(reg2.status, 201) << reg2;
  auto validate = http().get("/auth/validate", bearer(access_token));
  EXPECT_EQ(validate.status, 200) << validate;
  EXPECT_EQ(integer_header(validate, "X-RateLimit-Limit"), 1000) << validate;
  for (int i = 0; i < 15; ++i) ASSERT_EQ(http().get("/health").status, 200);
}

}  // namespace
}  // namespace reelhub::testing
