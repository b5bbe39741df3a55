#include "reelhub/ws/send_queue.hpp"

namespace reelhub::ws {

SendQueue::Push SendQueue::push(std::shared_ptr<const std::string> frame) {
  const std::size_t size = frame->size();
  if (!frames_.empty() && (frames_.size() + 1 > limits_.max_messages || bytes_ + size > limits_.max_bytes)) {
    totals_.dropped.fetch_add(1, std::memory_order_relaxed);
    return Push::overflow;
  }
  frames_.push_back(std::move(frame));
  bytes_ += size;
  totals_.bytes.fetch_add(static_cast<std::int64_t>(size), std::memory_order_relaxed);
  return frames_.size() == 1 ? Push::start : Push::queued;
}

const std::shared_ptr<const std::string>& SendQueue::front() const {
  static const std::shared_ptr<const std::string> none;
  return frames_.empty() ? none : frames_.front();
}

bool SendQueue::pop() {
  if (frames_.empty()) return false;
  forget(frames_.front()->size());
  frames_.pop_front();
  return !frames_.empty();
}

void SendQueue::drop_pending() {
  while (frames_.size() > 1) {
    forget(frames_.back()->size());
    frames_.pop_back();
    totals_.dropped.fetch_add(1, std::memory_order_relaxed);
  }
}

void SendQueue::clear() {
  drop_pending();
  if (!frames_.empty()) {
    forget(frames_.front()->size());
    frames_.clear();
  }
}

void SendQueue::forget(std::size_t bytes) {
  bytes_ -= bytes;
  totals_.bytes.fetch_sub(static_cast<std::int64_t>(bytes), std::memory_order_relaxed);
}

}  // namespace reelhub::ws
