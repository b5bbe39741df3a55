#include "reelhub/http/rate_limit.hpp"

namespace reelhub::http {

RateDecision RateLimiter::take(const std::string& policy, const std::string& key,
                               std::chrono::steady_clock::time_point now) {
  auto rule_it = rules_.find(policy);
  if (rule_it == rules_.end() || rule_it->second.limit <= 0) return {};
  const RateRule& rule = rule_it->second;
  const auto window = std::chrono::seconds(rule.window_seconds);

  std::lock_guard lock(mutex_);
  sweep(now);
  auto& w = windows_[policy + '\x1f' + key];
  if (w.used == 0 || now - w.start >= window) {
    w.start = now;
    w.used = 0;
  }
  RateDecision d;
  d.limit = rule.limit;
  const auto left = std::chrono::ceil<std::chrono::seconds>(w.start + window - now).count();
  d.reset_seconds = static_cast<int>(std::max<long long>(1, left));
  if (w.used >= rule.limit) {
    d.allowed = false;
    d.remaining = 0;
    return d;
  }
  ++w.used;
  d.remaining = rule.limit - w.used;
  return d;
}

void RateLimiter::sweep(std::chrono::steady_clock::time_point now) {
  // Drop finished windows once a minute so memory follows active clients, not all clients ever seen.
  if (now - last_sweep_ < std::chrono::seconds(60)) return;
  last_sweep_ = now;
  int longest = 0;
  for (const auto& [_, rule] : rules_) longest = std::max(longest, rule.window_seconds);
  for (auto it = windows_.begin(); it != windows_.end();) {
    if (now - it->second.start >= std::chrono::seconds(longest)) it = windows_.erase(it);
    else ++it;
  }
}

}  // namespace reelhub::http
