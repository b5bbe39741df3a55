// auth::SessionCache: answers from memory while fresh, one lookup per session per TTL, and a
// revoked session stays ended even when a lookup that started before the revocation says "live".

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>

#include "reelhub/auth/session_cache.hpp"

namespace reelhub::auth {
namespace {

using namespace std::chrono_literals;

AuthUser user(std::int64_t id, std::string session_id) { return AuthUser{id, "u", Role::viewer, std::move(session_id)}; }

TEST(SessionCache, OneLookupPerSessionWhileFresh) {
  std::atomic<int> lookups = 0;
  SessionCache cache(1h, [&](const AuthUser&) {
    ++lookups;
    return true;
  });
  const auto alice = user(1, "s1");
  EXPECT_EQ(cache.cached(alice), std::nullopt) << "unknown until checked";
  EXPECT_TRUE(cache.check(alice));
  EXPECT_TRUE(cache.check(alice));
  EXPECT_EQ(cache.cached(alice), true);
  EXPECT_EQ(lookups, 1);
  EXPECT_EQ(cache.cached(user(2, "s1")), false) << "a token naming another user's session is refused";
}

TEST(SessionCache, ZeroTtlAsksEveryTime) {
  std::atomic<int> lookups = 0;
  SessionCache cache(0ms, [&](const AuthUser&) {
    ++lookups;
    return true;
  });
  EXPECT_TRUE(cache.check(user(1, "s1")));
  EXPECT_TRUE(cache.check(user(1, "s1")));
  EXPECT_EQ(lookups, 2);
}

TEST(SessionCache, EndedWinsOverALookupThatRacedIt) {
  bool revoke_during_lookup = true;
  SessionCache* self = nullptr;
  SessionCache cache(1h, [&](const AuthUser& u) {
    // The revocation commits and is announced while this lookup still holds its old answer.
    if (revoke_during_lookup) self->ended(u.session_id);
    return true;
  });
  self = &cache;
  EXPECT_TRUE(cache.check(user(1, "s1"))) << "the lookup's own answer";
  EXPECT_EQ(cache.cached(user(1, "s1")), false) << "but it did not overwrite the revocation";
  revoke_during_lookup = false;
  EXPECT_FALSE(cache.check(user(1, "s1")));
}

TEST(SessionCache, TokenWithoutSessionIsNeverLive) {
  SessionCache cache(1h, [](const AuthUser&) { return true; });
  EXPECT_EQ(cache.cached(user(1, "")), false);
  EXPECT_FALSE(cache.check(user(1, "")));
}

TEST(SessionCache, StaysBounded) {
  std::atomic<int> lookups = 0;
  SessionCache cache(1h, [&](const AuthUser&) {
    ++lookups;
    return true;
  }, 10);
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(cache.check(user(1, "s" + std::to_string(i))));
  EXPECT_TRUE(cache.check(user(1, "s99"))) << "the newest entry survives a purge";
  EXPECT_EQ(lookups, 100);
}

}  // namespace
}  // namespace reelhub::auth
