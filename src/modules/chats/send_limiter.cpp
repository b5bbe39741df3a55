#include "send_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace reelhub::chats {

int SendLimiter::take(std::int64_t user_id, Clock::time_point now) {
  if (rule_.limit <= 0) return 0;
  const double capacity = rule_.limit;
  const double per_second = capacity / rule_.window_seconds;

  std::lock_guard lock(mutex_);
  sweep(now);
  auto [it, fresh] = buckets_.try_emplace(user_id, Bucket{capacity, now});
  Bucket& bucket = it->second;
  if (!fresh) {
    const double elapsed = std::chrono::duration<double>(now - bucket.updated).count();
    bucket.tokens = std::min(capacity, bucket.tokens + elapsed * per_second);
    bucket.updated = now;
  }
  if (bucket.tokens >= 1) {
    bucket.tokens -= 1;
    return 0;
  }
  return std::max(1, static_cast<int>(std::ceil((1 - bucket.tokens) / per_second)));
}

void SendLimiter::sweep(Clock::time_point now) {
  if (now - last_sweep_ < std::chrono::seconds(60)) return;
  last_sweep_ = now;
  const auto refill_time = std::chrono::seconds(rule_.window_seconds);
  std::erase_if(buckets_, [&](const auto& entry) { return now - entry.second.updated >= refill_time; });
}

}  // namespace reelhub::chats
