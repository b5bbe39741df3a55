#pragma once
// The outgoing queue of one WebSocket connection: a FIFO of shared frames bounded by messages AND
// bytes, with the accounting the slow-consumer rule and the metrics rely on. Not thread-safe: the
// connection guards it with its own mutex. No Beast here, so the rules are unit-tested alone.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>

namespace reelhub::ws {

struct QueueLimits {
  std::size_t max_messages = 1024;
  std::size_t max_bytes = 1 << 20;
};

/// Process-wide totals over every connection's queue (the metrics read them).
struct QueueTotals {
  std::atomic<std::int64_t> bytes{0};     // queued, including frames being written
  std::atomic<std::uint64_t> dropped{0};  // frames discarded by overflow or close
};

/// FIFO of frames; the head is the frame being written until pop().
class SendQueue {
 public:
  enum class Push {
    queued,    // behind a write in progress
    start,     // the queue was idle: the caller must start writing front()
    overflow,  // over a limit: nothing was queued, the connection must be closed
  };

  SendQueue(QueueLimits limits, QueueTotals& totals) : limits_(limits), totals_(totals) {}
  ~SendQueue() { clear(); }
  SendQueue(const SendQueue&) = delete;
  SendQueue& operator=(const SendQueue&) = delete;

  /// Queues `frame` unless that would pass a limit. A frame larger than max_bytes is still
  /// accepted into an empty queue, so one big event cannot shut every subscriber out.
  Push push(std::shared_ptr<const std::string> frame);
  /// The frame being written (the oldest); null when empty.
  const std::shared_ptr<const std::string>& front() const;
  /// Forgets the frame just written; true when another one waits to be written.
  bool pop();
  /// Drops every frame but the one being written (its write cannot be taken back), counting them
  /// as dropped. Used when the connection is about to close.
  void drop_pending();
  /// Drops everything (the connection is gone).
  void clear();

  std::size_t size() const { return frames_.size(); }
  std::size_t bytes() const { return bytes_; }

 private:
  void forget(std::size_t bytes);

  QueueLimits limits_;
  QueueTotals& totals_;
  std::deque<std::shared_ptr<const std::string>> frames_;
  std::size_t bytes_ = 0;
};

}  // namespace reelhub::ws
