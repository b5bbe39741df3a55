#include "reelhub/auth/session_cache.hpp"

#include <algorithm>

namespace reelhub::auth {

SessionCache::SessionCache(std::chrono::milliseconds ttl, Lookup lookup, std::size_t max_entries)
    : ttl_(ttl), lookup_(std::move(lookup)), max_entries_(std::max<std::size_t>(max_entries, 1)) {}

std::optional<bool> SessionCache::cached(const AuthUser& user) const {
  // A token without a session id was not issued by login or refresh: nothing can vouch for it.
  if (user.session_id.empty()) return false;
  std::lock_guard lock(mutex_);
  const auto it = entries_.find(user.session_id);
  if (it == entries_.end() || it->second.until <= Clock::now()) return std::nullopt;
  // The session id is the token's claim; the user id must match the session's too.
  return it->second.live && it->second.user_id == user.id;
}

bool SessionCache::check(const AuthUser& user) {
  if (const auto known = cached(user)) return *known;
  const bool live = lookup_(user);
  remember(user.session_id, Entry{user.id, live, Clock::now() + ttl_});
  return live;
}

void SessionCache::ended(const std::string& session_id) {
  // Kept for at least a TTL: a lookup that read "live" just before the revocation committed
  // cannot put the session back (remember() never overwrites a fresh "ended").
  remember(session_id, Entry{0, false, Clock::now() + std::max(ttl_, std::chrono::milliseconds(1000)), true});
}

void SessionCache::remember(const std::string& session_id, Entry entry) {
  std::lock_guard lock(mutex_);
  const auto now = Clock::now();
  auto [it, inserted] = entries_.try_emplace(session_id, entry);
  if (!inserted) {
    const bool freshly_revoked = it->second.revoked && it->second.until > now;
    if (!freshly_revoked || entry.revoked) it->second = entry;
    return;
  }
  if (entries_.size() <= max_entries_) return;
  // Full: drop what has expired; if that is not enough, everything else (each is one read away).
  std::erase_if(entries_, [&](const auto& kv) { return kv.second.until <= now; });
  if (entries_.size() > max_entries_) {
    entries_.clear();
    entries_.emplace(session_id, entry);
  }
}

}  // namespace reelhub::auth
