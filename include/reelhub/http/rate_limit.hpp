#pragma once
// Fixed-window request budgets per (policy, key). The key is the user id for authenticated
// requests and the client IP otherwise, so one noisy client cannot spend another's budget.

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>

#include "reelhub/core/config.hpp"

namespace reelhub::http {

struct RateDecision {
  bool allowed = true;
  int limit = 0;
  int remaining = 0;
  int reset_seconds = 0;  // until the window ends; also Retry-After when refused
};

class RateLimiter {
 public:
  explicit RateLimiter(std::map<std::string, RateRule> rules) : rules_(std::move(rules)) {}

  /// Counts one request against `policy` for `key`. Unknown policies are unlimited.
  RateDecision take(const std::string& policy, const std::string& key,
                    std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());
  bool has_policy(const std::string& policy) const { return rules_.count(policy) > 0; }

 private:
  struct Window {
    std::chrono::steady_clock::time_point start;
    int used = 0;
  };
  void sweep(std::chrono::steady_clock::time_point now);

  std::map<std::string, RateRule> rules_;
  std::mutex mutex_;
  std::unordered_map<std::string, Window> windows_;
  std::chrono::steady_clock::time_point last_sweep_{};
};

}  // namespace reelhub::http
