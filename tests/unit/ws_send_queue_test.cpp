// The per-connection send queue: its message and byte bounds are what keep a slow WebSocket
// client from growing server memory, and its accounting feeds reelhub_ws_queue_bytes.

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "reelhub/ws/send_queue.hpp"

namespace reelhub::ws {
namespace {

std::shared_ptr<const std::string> frame(std::size_t size) { return std::make_shared<const std::string>(size, 'x'); }

TEST(WsSendQueue, FirstFrameStartsTheWriterLaterOnesQueueBehindIt) {
  QueueTotals totals;
  SendQueue q({4, 1000}, totals);
  EXPECT_EQ(q.push(frame(10)), SendQueue::Push::start);
  EXPECT_EQ(q.push(frame(20)), SendQueue::Push::queued);
  EXPECT_EQ(q.size(), 2u);
  EXPECT_EQ(q.bytes(), 30u);
  EXPECT_EQ(totals.bytes, 30);
  EXPECT_EQ(q.front()->size(), 10u);  // oldest first

  EXPECT_TRUE(q.pop());  // the 20-byte frame waits
  EXPECT_EQ(q.front()->size(), 20u);
  EXPECT_EQ(totals.bytes, 20);
  EXPECT_FALSE(q.pop());  // idle again: the next push must start the writer
  EXPECT_EQ(q.push(frame(5)), SendQueue::Push::start);
}

TEST(WsSendQueue, OverflowByMessageCountQueuesNothing) {
  QueueTotals totals;
  SendQueue q({3, 1 << 20}, totals);
  for (int i = 0; i < 3; ++i) EXPECT_NE(q.push(frame(1)), SendQueue::Push::overflow);
  EXPECT_EQ(q.push(frame(1)), SendQueue::Push::overflow);
  EXPECT_EQ(q.size(), 3u);
  EXPECT_EQ(totals.bytes, 3);
  EXPECT_EQ(totals.dropped, 1u);
}

TEST(WsSendQueue, OverflowByBytesQueuesNothing) {
  QueueTotals totals;
  SendQueue q({1000, 100}, totals);
  EXPECT_EQ(q.push(frame(60)), SendQueue::Push::start);
  EXPECT_EQ(q.push(frame(40)), SendQueue::Push::queued);  // exactly at the limit
  EXPECT_EQ(q.push(frame(1)), SendQueue::Push::overflow);
  EXPECT_EQ(q.bytes(), 100u);
  EXPECT_EQ(totals.bytes, 100);
}

TEST(WsSendQueue, OneFrameLargerThanTheByteLimitStillGoesIntoAnEmptyQueue) {
  QueueTotals totals;
  SendQueue q({10, 100}, totals);
  EXPECT_EQ(q.push(frame(500)), SendQueue::Push::start);
  EXPECT_EQ(q.push(frame(1)), SendQueue::Push::overflow);
}

TEST(WsSendQueue, DropPendingKeepsOnlyTheFrameBeingWritten) {
  QueueTotals totals;
  SendQueue q({10, 1000}, totals);
  q.push(frame(10));
  q.push(frame(20));
  q.push(frame(30));
  q.drop_pending();
  EXPECT_EQ(q.size(), 1u);
  EXPECT_EQ(q.front()->size(), 10u);
  EXPECT_EQ(totals.bytes, 10);
  EXPECT_EQ(totals.dropped, 2u);
  EXPECT_FALSE(q.pop());
  EXPECT_EQ(totals.bytes, 0);
}

TEST(WsSendQueue, ClearAndDestructionReturnEveryByteToTheTotals) {
  QueueTotals totals;
  {
    SendQueue a({10, 1000}, totals);
    SendQueue b({10, 1000}, totals);
    a.push(frame(100));
    a.push(frame(100));
    b.push(frame(50));
    EXPECT_EQ(totals.bytes, 250);
    a.clear();
    EXPECT_EQ(a.size(), 0u);
    EXPECT_EQ(totals.bytes, 50);
  }
  EXPECT_EQ(totals.bytes, 0);
}

}  // namespace
}  // namespace reelhub::ws
