#pragma once
// The in-memory half of the hub: per topic, its subscribers, a bounded ring of its last events,
// an increasing offset and an epoch. Pure logic (no sockets, no database), so recovery is
// unit-tested directly and provably never touches PostgreSQL.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "reelhub/ws/hub.hpp"

namespace reelhub::ws {

struct TopicsOptions {
  std::size_t history_size = 128;            // events kept per topic for recovery
  std::size_t history_bytes = 1 << 20;       // and at most this many bytes of them
  std::chrono::seconds idle_ttl{300};        // a topic nobody subscribes to keeps its history this long
  std::size_t max_idle_topics = 100000;      // beyond this, the least recently active idle topics go
};

/// Topic name -> state. A topic's state is created by its first subscriber and dropped after
/// idle_ttl without subscribers; its epoch is random per state, so a new state (a restart, an
/// eviction, a fan-out gap) can never be confused with an old one.
class Topics {
 public:
  explicit Topics(TopicsOptions options) : options_(options) {}

  /// Stamps the next offset, records the event in the ring and queues it to every subscriber the
  /// audience does not hide it from, in offset order; then drops the subscriptions of
  /// `audience.last_for`. A topic without local state (never subscribed here) is skipped: returns 0.
  std::uint64_t publish(const std::string& topic, const std::string& type, const std::string& data_json,
                        const std::string& ts, const Audience& audience = {});

  /// Adds `subscriber` (again: a no-op besides recovery). When `since` is given and the ring still
  /// holds everything after it in the same epoch, the result is recovered with those events.
  /// `deliver` runs under the topic's lock, so no live event can overtake the reply it queues.
  void subscribe(const std::string& topic, const std::shared_ptr<Subscriber>& subscriber,
                 const std::optional<StreamPosition>& since, const std::function<void(const Subscription&)>& deliver);
  /// True when the subscriber was subscribed.
  bool unsubscribe(const std::string& topic, const Subscriber* subscriber);

  /// Every topic's history is void (events may have been missed): new epochs, empty rings.
  void reset_epochs();
  /// Drops topics idle past idle_ttl, and the oldest idle ones beyond max_idle_topics.
  void sweep(std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());

  std::size_t subscriber_count(const std::string& topic) const;
  /// True when a live subscriber of the topic belongs to `user_id`.
  bool has_user(const std::string& topic, std::int64_t user_id) const;
  std::size_t topic_count() const;

 private:
  struct Entry {
    std::uint64_t offset;
    std::shared_ptr<const std::string> frame;
    std::vector<std::int64_t> hidden_from;  // recovery skips it for these users too
  };
  struct Topic {
    std::mutex mutex;
    std::string epoch;
    std::uint64_t offset = 0;
    std::deque<Entry> ring;
    std::size_t ring_bytes = 0;
    std::vector<std::pair<const Subscriber*, std::weak_ptr<Subscriber>>> subscribers;
    std::chrono::steady_clock::time_point last_active;
  };
  std::shared_ptr<Topic> find(const std::string& topic) const;
  void trim(Topic& t) const;

  TopicsOptions options_;
  mutable std::mutex mutex_;  // guards the map only; each topic has its own lock (map first, then topic)
  std::unordered_map<std::string, std::shared_ptr<Topic>> topics_;
};

}  // namespace reelhub::ws
