#pragma once
// Wakes whoever waits for a change without a thread per waiter: a waiter registers a one-shot
// callback, the producer calls notify(). The HTTP server turns the callback into an Asio timer
// cancel, so thousands of LL-HLS viewers blocked on one stream cost a timer each, not a thread.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

namespace reelhub {

class ChangeNotifier : public std::enable_shared_from_this<ChangeNotifier> {
 public:
  /// Unregisters its callback when destroyed (a waiter that timed out or was answered); when a
  /// notify() is running the callbacks, the destructor waits for it, so once it has returned the
  /// callback is neither running nor will it run.
  class Subscription {
   public:
    Subscription() = default;
    Subscription(std::weak_ptr<ChangeNotifier> notifier, std::uint64_t id) : notifier_(std::move(notifier)), id_(id) {}
    ~Subscription();
    Subscription(Subscription&& other) noexcept;
    Subscription& operator=(Subscription&& other) noexcept;
    Subscription(const Subscription&) = delete;
    Subscription& operator=(const Subscription&) = delete;

   private:
    void reset();
    std::weak_ptr<ChangeNotifier> notifier_;
    std::uint64_t id_ = 0;
  };

  /// `wake` runs once, on the notifying thread and under the notifier's lock, at the next
  /// notify() after this call; it must be quick and must not call back into this notifier (nor
  /// drop a Subscription of it). Create the notifier with make_shared.
  Subscription subscribe(std::function<void()> wake);
  /// Runs (and forgets) every registered callback.
  void notify();
  std::size_t waiting() const;

 private:
  void unsubscribe(std::uint64_t id);

  mutable std::mutex mutex_;
  std::uint64_t next_id_ = 1;
  std::map<std::uint64_t, std::function<void()>> waiters_;
};

}  // namespace reelhub
