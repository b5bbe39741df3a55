#pragma once
// The hub the process runs: Topics (in memory) + Fanout (PostgreSQL LISTEN/NOTIFY and presence)
// + the topic families modules register + the open connections. Modules see it as ws::Hub; the
// WebSocket sessions (src/ws/session.cpp) use the rest. No Beast in this header.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "reelhub/core/config.hpp"
#include "reelhub/ws/hub.hpp"
#include "reelhub/ws/protocol.hpp"
#include "reelhub/ws/send_queue.hpp"
#include "reelhub/ws/topics.hpp"

namespace reelhub::auth {
class SessionCache;
}
namespace reelhub::db {
class Pool;
}
namespace reelhub::metrics {
class Registry;
}

namespace reelhub::ws {

class Fanout;
struct Envelope;

/// The path of the WebSocket endpoint.
inline constexpr const char* kEndpointPath = "/ws";

/// A WebSocket connection as the hub manages it.
class Connection : public Subscriber {
 public:
  /// Starts a close handshake with `code`; callable from any thread, idempotent.
  virtual void close(CloseCode code, const std::string& reason) = 0;
  /// Closes the connection (4401) if it is authenticated for `session_id`; from any thread.
  virtual void session_ended(const std::string& session_id) = 0;
};

class LiveHub final : public Hub {
 public:
  LiveHub(const Config& config, db::Pool& db, metrics::Registry& metrics);
  ~LiveHub() override;

  /// Starts the fan-out thread (after migrations: it uses the ws_* tables).
  void start();
  /// Stops it and removes this instance's presence. Idempotent.
  void stop();

  // Hub
  void register_topic(const std::string& family, AccessCheck check) override;
  void register_request(const std::string& type, RequestHandler handler) override;
  void on_departure(const std::string& family, Departure departed) override;
  std::uint64_t publish(const std::string& topic, const std::string& type, const nlohmann::json& data,
                        const Audience& audience = {}) override;
  void send_to_user(std::int64_t user_id, const std::string& type, const nlohmann::json& data) override;
  bool is_online(std::int64_t user_id) const override;

  // For WebSocket sessions
  /// Throws ApiError: 400 malformed topic, 404 unknown family, 403 refused. May block (DB): call it
  /// on a worker thread.
  void check_access(const auth::AuthUser& user, const std::string& topic) const;
  /// The handler of a module's client message type; empty when no module registered it.
  RequestHandler request_handler(const std::string& type) const;
  /// True when the topic's family asked to hear of departures.
  bool watches_departures(const std::string& topic) const;
  /// True when one of the user's connections here is subscribed to the topic.
  bool is_subscribed(std::int64_t user_id, const std::string& topic) const { return topics_.has_user(topic, user_id); }
  /// Calls the family's Departure for the topic (on the caller's thread, a worker).
  void report_departure(std::int64_t user_id, const std::string& topic) const;
  /// True once close_all() ran: connections closing now are no departures (a restart is no leave).
  bool closing() const;
  void subscribe(const std::string& topic, const std::shared_ptr<Subscriber>& subscriber,
                 const std::optional<StreamPosition>& since, const std::function<void(const Subscription&)>& deliver) {
    topics_.subscribe(topic, subscriber, since, deliver);
  }
  void unsubscribe(const std::string& topic, const Subscriber* subscriber) { topics_.unsubscribe(topic, subscriber); }
  void attach(const std::shared_ptr<Connection>& connection);
  void detach(const Connection* connection);
  /// Counts a user's connections here; the first and the last change presence.
  void user_connected(std::int64_t user_id);
  void user_disconnected(std::int64_t user_id);
  /// Closes every connection, and any attached later (SIGTERM drain: 1001).
  void close_all(CloseCode code, const std::string& reason);

  /// Connections check their token's session here when they authenticate and about once per
  /// cache TTL while open; end_session() forgets sessions in it. Set before start().
  void check_sessions_with(auth::SessionCache& sessions) { sessions_ = &sessions; }
  auth::SessionCache* sessions() const { return sessions_; }
  /// A session was revoked (logout, refresh-token reuse, deactivated account): every instance
  /// forgets it in its session cache and closes the connections authenticated for it (4401).
  /// Thread-safe; never blocks on the database.
  void end_session(const std::string& session_id);

  static std::string personal_topic(std::int64_t user_id) { return "user:" + std::to_string(user_id); }
  const Config& config() const { return config_; }
  QueueLimits queue_limits() const;
  QueueTotals& queue_totals() { return queue_totals_; }
  void count_sent() { sent_.fetch_add(1, std::memory_order_relaxed); }
  void count_slow_consumer() { slow_consumers_.fetch_add(1, std::memory_order_relaxed); }
  const std::string& instance_id() const { return instance_id_; }

 private:
  void deliver_remote(Envelope&& e);
  /// end_session() on this instance only.
  void end_session_here(const std::string& session_id);
  std::vector<std::shared_ptr<Connection>> open_connections() const;

  const Config& config_;
  db::Pool& db_;
  const std::string instance_id_;
  Topics topics_;
  QueueTotals queue_totals_;
  std::atomic<std::uint64_t> sent_{0};
  std::atomic<std::uint64_t> slow_consumers_{0};
  std::atomic<std::uint64_t> events_local_{0};
  std::atomic<std::uint64_t> events_remote_{0};

  mutable std::mutex families_mutex_;
  std::map<std::string, AccessCheck> families_;
  std::map<std::string, RequestHandler> requests_;  // also guarded by families_mutex_
  std::map<std::string, Departure> departures_;     // likewise

  mutable std::mutex connections_mutex_;  // guards the two maps below
  std::unordered_map<const Connection*, std::weak_ptr<Connection>> connections_;
  std::unordered_map<std::int64_t, int> local_users_;  // user -> open authenticated connections here
  std::optional<CloseCode> closing_all_;               // set by close_all(): later arrivals close too

  auth::SessionCache* sessions_ = nullptr;

  std::unique_ptr<Fanout> fanout_;  // last: its thread calls into everything above
};

}  // namespace reelhub::ws
