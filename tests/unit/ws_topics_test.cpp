// The hub's in-memory topics: offsets, epochs, the recovery ring and eviction. Topics has no
// database at all, so every recovery here is proof that recovering from the ring needs no query.

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "reelhub/ws/topics.hpp"

namespace reelhub::ws {
namespace {

using nlohmann::json;

/// Records every frame it is sent, parsed.
class FakeSubscriber : public Subscriber {
 public:
  explicit FakeSubscriber(std::int64_t user_id = 1) : user_id_(user_id) {}
  std::int64_t user_id() const override { return user_id_; }
  void send(std::shared_ptr<const std::string> frame) override {
    std::lock_guard lock(mutex_);
    frames_.push_back(json::parse(*frame));
  }
  std::vector<json> frames() const {
    std::lock_guard lock(mutex_);
    return frames_;
  }

 private:
  std::int64_t user_id_;
  mutable std::mutex mutex_;
  std::vector<json> frames_;
};

/// Subscribes and returns the result, queueing the missed events to the subscriber like a session.
Subscription subscribe(Topics& topics, const std::string& topic, const std::shared_ptr<FakeSubscriber>& s,
                       std::optional<StreamPosition> since = std::nullopt) {
  Subscription result;
  topics.subscribe(topic, s, since, [&](const Subscription& sub) {
    result = sub;
    for (const auto& f : sub.missed) s->send(f);
  });
  return result;
}

void publish_n(Topics& topics, const std::string& topic, int from, int to) {
  for (int i = from; i <= to; ++i) topics.publish(topic, "tick", json{{"n", i}}.dump(), "2025-09-26T01:00:00Z");
}

TEST(WsTopics, EventsWithoutLocalSubscribersAreNotRecorded) {
  Topics topics({});
  EXPECT_EQ(topics.publish("chat:1", "message.new", "{}", "t"), 0u);
  EXPECT_EQ(topics.topic_count(), 0u);
}

/// The `n` of each frame, in the order received.
std::vector<int> ns(const std::vector<json>& frames) {
  std::vector<int> out;
  for (const auto& f : frames) out.push_back(f.at("data").at("n"));
  return out;
}

TEST(WsTopics, AnEventHiddenFromAUserIsNeitherDeliveredNorRecoveredForThem) {
  Topics topics({});
  auto alice = std::make_shared<FakeSubscriber>(1), bob = std::make_shared<FakeSubscriber>(2);
  subscribe(topics, "chat:1", alice);
  const auto position = subscribe(topics, "chat:1", bob).position;
  topics.publish("chat:1", "message.new", json{{"n", 1}}.dump(), "t", Audience{.hidden_from = {2}});
  topics.publish("chat:1", "message.new", json{{"n", 2}}.dump(), "t");
  EXPECT_EQ(ns(alice->frames()), (std::vector<int>{1, 2}));
  EXPECT_EQ(ns(bob->frames()), (std::vector<int>{2}));

  auto bob_again = std::make_shared<FakeSubscriber>(2);
  EXPECT_TRUE(subscribe(topics, "chat:1", bob_again, position).recovered);
  EXPECT_EQ(ns(bob_again->frames()), (std::vector<int>{2}));
}

TEST(WsTopics, AnEventLastForAUserEndsTheirSubscriptionsAfterDeliveringIt) {
  Topics topics({});
  auto alice = std::make_shared<FakeSubscriber>(1), bob = std::make_shared<FakeSubscriber>(2),
       bobs_phone = std::make_shared<FakeSubscriber>(2);
  for (const auto& s : {alice, bob, bobs_phone}) subscribe(topics, "chat:1", s);
  topics.publish("chat:1", "member.left", json{{"n", 1}}.dump(), "t", Audience{.last_for = 2});
  topics.publish("chat:1", "message.new", json{{"n", 2}}.dump(), "t");
  EXPECT_EQ(ns(alice->frames()), (std::vector<int>{1, 2}));
  EXPECT_EQ(ns(bob->frames()), (std::vector<int>{1}));
  EXPECT_EQ(ns(bobs_phone->frames()), (std::vector<int>{1}));
  EXPECT_EQ(topics.subscriber_count("chat:1"), 1u);
}

TEST(WsTopics, SubscribersReceiveEventsInOffsetOrderWithTheTopicsEpoch) {
  Topics topics({});
  auto a = std::make_shared<FakeSubscriber>();
  auto b = std::make_shared<FakeSubscriber>();
  const auto first = subscribe(topics, "chat:1", a);
  subscribe(topics, "chat:1", b);
  EXPECT_EQ(first.position.offset, 0u);
  EXPECT_FALSE(first.position.epoch.empty());

  publish_n(topics, "chat:1", 1, 3);
  for (const auto& s : {a, b}) {
    const auto frames = s->frames();
    ASSERT_EQ(frames.size(), 3u);
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(frames[i].at("offset"), i + 1);
      EXPECT_EQ(frames[i].at("epoch"), first.position.epoch);
      EXPECT_EQ(frames[i].at("topic"), "chat:1");
      EXPECT_EQ(frames[i].at("data").at("n"), i + 1);
    }
  }
  // Subscribing twice does not deliver twice.
  subscribe(topics, "chat:1", a);
  publish_n(topics, "chat:1", 4, 4);
  EXPECT_EQ(a->frames().size(), 4u);
}

TEST(WsTopics, RecoversExactlyTheHundredMissedEventsFromTheRing) {
  Topics topics({.history_size = 128});
  auto client = std::make_shared<FakeSubscriber>();
  auto other = std::make_shared<FakeSubscriber>();
  subscribe(topics, "chat:1", other);
  const auto start = subscribe(topics, "chat:1", client);
  publish_n(topics, "chat:1", 1, 5);
  const auto seen = client->frames().back();
  ASSERT_EQ(seen.at("offset"), 5);

  topics.unsubscribe("chat:1", client.get());  // the client's connection drops
  publish_n(topics, "chat:1", 6, 105);          // 100 events it misses

  auto back = std::make_shared<FakeSubscriber>();  // the reconnected client
  const auto r = subscribe(topics, "chat:1", back, StreamPosition{5, start.position.epoch});
  EXPECT_TRUE(r.recovered);
  EXPECT_EQ(r.position.offset, 105u);
  const auto frames = back->frames();
  ASSERT_EQ(frames.size(), 100u);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(frames[i].at("offset"), 6 + i);
    EXPECT_EQ(frames[i].at("data").at("n"), 6 + i);
  }
  publish_n(topics, "chat:1", 106, 106);  // and it is live again
  EXPECT_EQ(back->frames().back().at("offset"), 106);
}

TEST(WsTopics, NothingMissedIsARecoveryWithNoEvents) {
  Topics topics({});
  auto s = std::make_shared<FakeSubscriber>();
  const auto start = subscribe(topics, "room:1", s);
  publish_n(topics, "room:1", 1, 2);
  auto again = std::make_shared<FakeSubscriber>();
  const auto r = subscribe(topics, "room:1", again, StreamPosition{2, start.position.epoch});
  EXPECT_TRUE(r.recovered);
  EXPECT_TRUE(r.missed.empty());
}

TEST(WsTopics, RecoveryIsRefusedWhenTheRingNoLongerHoldsTheGap) {
  Topics topics({.history_size = 10});
  auto s = std::make_shared<FakeSubscriber>();
  const auto start = subscribe(topics, "chat:1", s);
  publish_n(topics, "chat:1", 1, 30);
  const std::string epoch = start.position.epoch;

  auto probe = [&](StreamPosition since) {
    auto c = std::make_shared<FakeSubscriber>();
    return subscribe(topics, "chat:1", c, since);
  };
  EXPECT_FALSE(probe({19, epoch}).recovered);      // 11 missed, ring holds 10
  EXPECT_TRUE(probe({20, epoch}).recovered);       // exactly 10 missed
  EXPECT_EQ(probe({20, epoch}).missed.size(), 10u);
  EXPECT_FALSE(probe({25, "other"}).recovered);    // another epoch: history unknown
  EXPECT_FALSE(probe({31, epoch}).recovered);      // from the future
}

TEST(WsTopics, RingIsBoundedByBytesToo) {
  Topics topics({.history_size = 1000, .history_bytes = 2000});
  auto s = std::make_shared<FakeSubscriber>();
  const auto start = subscribe(topics, "chat:1", s);
  const std::string big = json{{"pad", std::string(300, 'x')}}.dump();
  for (int i = 0; i < 20; ++i) topics.publish("chat:1", "tick", big, "t");
  auto c = std::make_shared<FakeSubscriber>();
  EXPECT_FALSE(subscribe(topics, "chat:1", c, StreamPosition{0, start.position.epoch}).recovered);
  const auto r = subscribe(topics, "chat:1", c, StreamPosition{17, start.position.epoch});
  EXPECT_TRUE(r.recovered);  // the last few fit in 2000 bytes
  EXPECT_EQ(r.missed.size(), 3u);
}

TEST(WsTopics, ANewProcessOrAGapMeansANewEpochAndNoRecovery) {
  Topics before({});
  auto s = std::make_shared<FakeSubscriber>();
  const auto old = subscribe(before, "chat:1", s);
  publish_n(before, "chat:1", 1, 3);

  Topics after({});  // a restart: the same topic, a fresh state
  auto c = std::make_shared<FakeSubscriber>();
  const auto r = subscribe(after, "chat:1", c, StreamPosition{3, old.position.epoch});
  EXPECT_FALSE(r.recovered);
  EXPECT_NE(r.position.epoch, old.position.epoch);

  before.reset_epochs();  // the fan-out lost its LISTEN connection for a while
  const auto gap = subscribe(before, "chat:1", c, StreamPosition{3, old.position.epoch});
  EXPECT_FALSE(gap.recovered);
  EXPECT_NE(gap.position.epoch, old.position.epoch);
  publish_n(before, "chat:1", 4, 4);
  EXPECT_EQ(s->frames().back().at("epoch"), gap.position.epoch);  // live events carry the new epoch
}

TEST(WsTopics, IdleTopicsKeepHistoryForTheirTtlThenGo) {
  Topics topics({.idle_ttl = std::chrono::seconds(60), .max_idle_topics = 2});
  auto s = std::make_shared<FakeSubscriber>();
  for (const char* t : {"chat:1", "chat:2", "chat:3", "chat:4"}) subscribe(topics, t, s);
  topics.unsubscribe("chat:1", s.get());
  topics.unsubscribe("chat:2", s.get());
  const auto now = std::chrono::steady_clock::now();
  topics.sweep(now);
  EXPECT_EQ(topics.topic_count(), 4u);  // idle but young: kept for recovery
  topics.sweep(now + std::chrono::seconds(61));
  EXPECT_EQ(topics.topic_count(), 2u);  // chat:1 and chat:2 expired; subscribed ones never do
  EXPECT_EQ(topics.subscriber_count("chat:3"), 1u);

  for (const char* t : {"chat:3", "chat:4"}) topics.unsubscribe(t, s.get());
  subscribe(topics, "chat:5", s);
  topics.unsubscribe("chat:5", s.get());
  topics.sweep(now);  // three idle topics, two allowed: the least recently active goes
  EXPECT_EQ(topics.topic_count(), 2u);
}

TEST(WsTopics, ConcurrentPublishingNeverReordersLosesOrDuplicatesAcrossAResubscribe) {
  Topics topics({.history_size = 1 << 20, .history_bytes = 1u << 30});
  auto first = std::make_shared<FakeSubscriber>();
  const auto start = subscribe(topics, "chat:1", first);
  constexpr int kEvents = 20000;
  std::thread publisher([&] { publish_n(topics, "chat:1", 1, kEvents); });

  // Meanwhile the client reconnects from where it was, while events keep coming.
  while (first->frames().size() < 100) std::this_thread::yield();
  topics.unsubscribe("chat:1", first.get());
  const auto last = first->frames().back().at("offset").get<std::uint64_t>();
  auto second = std::make_shared<FakeSubscriber>();
  EXPECT_TRUE(subscribe(topics, "chat:1", second, StreamPosition{last, start.position.epoch}).recovered);
  publisher.join();

  std::uint64_t expected = 1;
  for (const auto& s : {first, second})
    for (const auto& f : s->frames()) {
      ASSERT_EQ(f.at("offset").get<std::uint64_t>(), expected) << "gap, duplicate or reordering";
      ++expected;
    }
  EXPECT_EQ(expected, kEvents + 1u);
}

}  // namespace
}  // namespace reelhub::ws
