#pragma once
// The cross-instance link of the hub (private to src/ws): one dedicated PostgreSQL connection on
// its own thread. It LISTENs on channel `reelhub_ws`, NOTIFYs what this instance publishes (via the
// ws_outbox table when an envelope would pass NOTIFY's 8000-byte limit), and keeps this instance's
// presence rows and heartbeat fresh. When PostgreSQL goes away it reconnects with backoff, and
// reports the gap so topic epochs change (events of other instances may have been missed).

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "reelhub/ws/hub.hpp"

namespace pqxx {
class connection_base;
}
namespace reelhub::metrics {
class Registry;
}

namespace reelhub::ws {

/// An event as it travels between instances.
struct Envelope {
  std::string topic;
  std::string type;
  std::string data_json;
  std::string ts;
  Audience audience{};
};

struct FanoutOptions {
  std::string url;
  std::string instance_id;
  std::chrono::seconds heartbeat{5};  // an instance silent for 3 heartbeats counts as gone
  std::size_t max_pending = 10000;    // events waiting for the database; the oldest go first
};

class Fanout {
 public:
  /// Called on the fan-out thread.
  struct Hooks {
    std::function<void(Envelope&&)> deliver;                  // an event from another instance
    std::function<void()> gap;                                // LISTEN (re)started: history may be incomplete
    std::function<std::vector<std::int64_t>()> online_users;  // this instance's users, to resync presence
    std::function<void()> tick;                               // about once a second
  };

  Fanout(FanoutOptions options, Hooks hooks, metrics::Registry& metrics);
  ~Fanout();
  Fanout(const Fanout&) = delete;
  Fanout& operator=(const Fanout&) = delete;

  void start();
  /// Removes this instance's presence (best effort) and joins the thread. Idempotent.
  void stop();
  /// Queues an event for the other instances. Never blocks on the database.
  void publish(const Envelope& e);
  /// Records that a user's first connection opened (true) or last one closed (false) here.
  void presence_changed(std::int64_t user_id, bool online);

 private:
  void run();
  void serve(pqxx::connection_base& conn);
  void wake();
  void sleep_for(std::chrono::milliseconds d);

  FanoutOptions options_;
  Hooks hooks_;
  metrics::Registry& metrics_;
  int wake_fd_ = -1;
  std::thread thread_;

  std::mutex mutex_;  // guards everything below
  bool stopping_ = false;
  std::uint64_t sequence_ = 0;
  std::deque<std::string> outgoing_;           // serialized envelopes
  std::map<std::int64_t, bool> presence_;      // user -> online, not yet written
};

}  // namespace reelhub::ws
