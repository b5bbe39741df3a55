#pragma once
// Is the session behind an access token still live? Access tokens are stateless, so without this
// a logout, a refresh-token reuse revocation or a deactivated account would leave them usable
// until `exp`. Answers are remembered for a short TTL, so a busy client costs one database read
// per TTL; a session ended on this instance, or on another one (the WebSocket hub relays it), is
// forgotten at once.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "reelhub/auth/identity.hpp"

namespace reelhub::auth {

class SessionCache {
 public:
  /// Asks the database whether the session is live and its account active. Blocks: the cache
  /// calls it only from check(), which runs on worker threads.
  using Lookup = std::function<bool(const AuthUser& user)>;

  /// `ttl` 0 remembers nothing (every check reads the database).
  SessionCache(std::chrono::milliseconds ttl, Lookup lookup, std::size_t max_entries = 100'000);

  /// From memory only, never blocks: the answer while it is fresh, nullopt when check() must ask.
  std::optional<bool> cached(const AuthUser& user) const;
  /// The cached answer, else the lookup's (remembered for the TTL). Worker threads only.
  bool check(const AuthUser& user);
  /// The session was revoked: it answers "ended" from now on without a lookup.
  void ended(const std::string& session_id);

  std::chrono::milliseconds ttl() const { return ttl_; }

 private:
  using Clock = std::chrono::steady_clock;
  struct Entry {
    std::int64_t user_id = 0;
    bool live = false;
    Clock::time_point until;
    bool revoked = false;  // set by ended(): no lookup may turn it back to live
  };
  void remember(const std::string& session_id, Entry entry);

  const std::chrono::milliseconds ttl_;
  const Lookup lookup_;
  const std::size_t max_entries_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;  // by session id
};

}  // namespace reelhub::auth
