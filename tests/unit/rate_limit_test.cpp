// Fixed-window budgets per (policy, key), driven with explicit time points.

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "reelhub/http/rate_limit.hpp"

namespace reelhub::http {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

// A fixed origin far from the clock's epoch, so no test depends on the real time.
const Clock::time_point kT0 = Clock::time_point{} + std::chrono::hours(1000);

RateLimiter login_limiter() { return RateLimiter({{"login", {10, 60}}, {"upload", {2, 30}}}); }

TEST(RateLimit, TenAllowedThenEleventhRefused) {
  auto limiter = login_limiter();
  for (int i = 1; i <= 10; ++i) {
    SCOPED_TRACE(i);
    const auto d = limiter.take("login", "ip:10.0.0.1", kT0 + seconds(i));
    EXPECT_TRUE(d.allowed);
    EXPECT_EQ(d.limit, 10);
    EXPECT_EQ(d.remaining, 10 - i);
    EXPECT_EQ(d.reset_seconds, 61 - i);  // the window [T0+1s, T0+61s) began with the first request
  }
  const auto refused = limiter.take("login", "ip:10.0.0.1", kT0 + seconds(20));
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.limit, 10);
  EXPECT_EQ(refused.remaining, 0);
  EXPECT_EQ(refused.reset_seconds, 41);
  // Refusals do not extend or restart the window.
  EXPECT_FALSE(limiter.take("login", "ip:10.0.0.1", kT0 + seconds(60)).allowed);
}

TEST(RateLimit, ResetSecondsRoundsUpAndIsNeverZero) {
  auto limiter = login_limiter();
  EXPECT_EQ(limiter.take("login", "k", kT0).reset_seconds, 60);
  EXPECT_EQ(limiter.take("login", "k", kT0 + milliseconds(500)).reset_seconds, 60);  // 59.5 s -> 60
  EXPECT_EQ(limiter.take("login", "k", kT0 + milliseconds(59'999)).reset_seconds, 1);
}

TEST(RateLimit, WindowRollsOver) {
  auto limiter = login_limiter();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(limiter.take("login", "k", kT0).allowed);
  EXPECT_FALSE(limiter.take("login", "k", kT0 + seconds(59)).allowed);
  EXPECT_FALSE(limiter.take("login", "k", kT0 + milliseconds(59'999)).allowed);

  const auto fresh = limiter.take("login", "k", kT0 + seconds(60));
  EXPECT_TRUE(fresh.allowed);
  EXPECT_EQ(fresh.remaining, 9);
  EXPECT_EQ(fresh.reset_seconds, 60);  // a new window starts at this request
  for (int i = 0; i < 9; ++i) ASSERT_TRUE(limiter.take("login", "k", kT0 + seconds(61)).allowed);
  EXPECT_FALSE(limiter.take("login", "k", kT0 + seconds(62)).allowed);
  EXPECT_TRUE(limiter.take("login", "k", kT0 + seconds(120)).allowed);
}

TEST(RateLimit, KeysAreIndependent) {
  auto limiter = login_limiter();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(limiter.take("login", "ip:1.1.1.1", kT0).allowed);
  EXPECT_FALSE(limiter.take("login", "ip:1.1.1.1", kT0).allowed);
  const auto other = limiter.take("login", "ip:2.2.2.2", kT0);
  EXPECT_TRUE(other.allowed);
  EXPECT_EQ(other.remaining, 9);
  EXPECT_TRUE(limiter.take("login", "user:7", kT0).allowed);
}

TEST(RateLimit, PoliciesAreIndependent) {
  auto limiter = login_limiter();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(limiter.take("login", "k", kT0).allowed);
  EXPECT_FALSE(limiter.take("login", "k", kT0).allowed);

  const auto upload = limiter.take("upload", "k", kT0);
  EXPECT_TRUE(upload.allowed);
  EXPECT_EQ(upload.limit, 2);
  EXPECT_EQ(upload.remaining, 1);
  EXPECT_EQ(upload.reset_seconds, 30);
  EXPECT_TRUE(limiter.take("upload", "k", kT0).allowed);
  EXPECT_FALSE(limiter.take("upload", "k", kT0).allowed);
  // Upload's shorter window rolls over while login's is still closed.
  EXPECT_TRUE(limiter.take("upload", "k", kT0 + seconds(30)).allowed);
  EXPECT_FALSE(limiter.take("login", "k", kT0 + seconds(30)).allowed);
}

TEST(RateLimit, KeyAndPolicyDoNotCollideWhenConcatenated) {
  RateLimiter limiter({{"a", {1, 60}}, {"ab", {1, 60}}});
  EXPECT_TRUE(limiter.take("a", "bc", kT0).allowed);
  EXPECT_TRUE(limiter.take("ab", "c", kT0).allowed);
}

TEST(RateLimit, UnknownPolicyIsUnlimited) {
  auto limiter = login_limiter();
  EXPECT_FALSE(limiter.has_policy("search"));
  EXPECT_TRUE(limiter.has_policy("login"));
  for (int i = 0; i < 1000; ++i) {
    const auto d = limiter.take("search", "k", kT0);
    ASSERT_TRUE(d.allowed);
    ASSERT_EQ(d.limit, 0);  // no X-RateLimit-* headers for unlimited routes
  }
}

TEST(RateLimit, LimitZeroIsUnlimited) {
  RateLimiter limiter({{"general", {0, 60}}});
  for (int i = 0; i < 1000; ++i) {
    const auto d = limiter.take("general", "k", kT0);
    ASSERT_TRUE(d.allowed);
    ASSERT_EQ(d.limit, 0);
  }
}

TEST(RateLimit, BudgetSurvivesTheMemorySweep) {
  // The sweep runs at most once a minute and drops only finished windows: an active, exhausted
  // window must not be forgotten when a sweep happens in the middle of it.
  RateLimiter limiter({{"login", {2, 600}}, {"general", {100, 60}}});
  EXPECT_TRUE(limiter.take("login", "k", kT0).allowed);
  EXPECT_TRUE(limiter.take("login", "k", kT0).allowed);
  EXPECT_TRUE(limiter.take("general", "other", kT0 + seconds(120)).allowed);  // triggers a sweep
  EXPECT_TRUE(limiter.take("general", "other", kT0 + seconds(300)).allowed);  // and another
  const auto d = limiter.take("login", "k", kT0 + seconds(301));
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reset_seconds, 299);
}

}  // namespace
}  // namespace reelhub::http
