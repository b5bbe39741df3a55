#pragma once
// Per-user token bucket for chat sends: a burst of up to `limit` messages, refilled at
// limit / window_seconds per second, so a steady typist is never refused and a flood is.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <unordered_map>

#include "reelhub/core/config.hpp"

namespace reelhub::chats {

class SendLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  /// A limit of 0 sends unlimited.
  explicit SendLimiter(RateRule rule) : rule_(rule) {}

  /// Takes a token for `user_id`. Returns 0 when one was available, else the whole seconds
  /// until one will be (Retry-After).
  int take(std::int64_t user_id, Clock::time_point now = Clock::now());

 private:
  struct Bucket {
    double tokens = 0;
    Clock::time_point updated;
  };
  /// Forgets buckets that have refilled completely: memory follows active senders only.
  void sweep(Clock::time_point now);

  RateRule rule_;
  std::mutex mutex_;
  std::unordered_map<std::int64_t, Bucket> buckets_;
  Clock::time_point last_sweep_{};
};

}  // namespace reelhub::chats
