#include "reelhub/core/change_notifier.hpp"

#include <utility>

namespace reelhub {

ChangeNotifier::Subscription::~Subscription() { reset(); }

ChangeNotifier::Subscription::Subscription(Subscription&& other) noexcept
    : notifier_(std::move(other.notifier_)), id_(std::exchange(other.id_, 0)) {}

ChangeNotifier::Subscription& ChangeNotifier::Subscription::operator=(Subscription&& other) noexcept {
  if (this != &other) {
    reset();
    notifier_ = std::move(other.notifier_);
    id_ = std::exchange(other.id_, 0);
  }
  return *this;
}

void ChangeNotifier::Subscription::reset() {
  if (id_ == 0) return;
  if (const auto notifier = notifier_.lock()) notifier->unsubscribe(id_);
  id_ = 0;
}

ChangeNotifier::Subscription ChangeNotifier::subscribe(std::function<void()> wake) {
  std::lock_guard lock(mutex_);
  const std::uint64_t id = next_id_++;
  waiters_.emplace(id, std::move(wake));
  return Subscription(weak_from_this(), id);
}

void ChangeNotifier::notify() {
  // The callbacks run under the lock, so unsubscribe() waits for a notify() under way: once a
  // Subscription is gone its callback has run or never will. The HTTP server relies on it: a
  // callback posts to an io_context, which may be destroyed right after the waiter's
  // Subscription (the server stopping while a publisher's thread notifies).
  std::lock_guard lock(mutex_);
  const std::map<std::uint64_t, std::function<void()>> woken = std::exchange(waiters_, {});
  for (const auto& [id, wake] : woken) wake();
}

std::size_t ChangeNotifier::waiting() const {
  std::lock_guard lock(mutex_);
  return waiters_.size();
}

void ChangeNotifier::unsubscribe(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  waiters_.erase(id);
}

}  // namespace reelhub
