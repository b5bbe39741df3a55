#pragma once
// The WebSocket hub: topics ("chat:<id>", "stream:<id>", "room:<id>") -> subscribed connections,
// plus each user's own connections for notifications. Every topic event gets a per-topic offset
// and carries the process epoch, and the last events of each topic stay in a bounded ring, so a
// client that reconnects with {offset, epoch} gets exactly what it missed (Centrifugo-style).
// Events cross instances through PostgreSQL LISTEN/NOTIFY. No Beast in this header.

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "reelhub/auth/identity.hpp"

namespace reelhub::ws {

/// A connection as the hub sees it. send() never blocks: it queues the shared frame or, when
/// the connection's bounded queue is full, closes that connection (policy violation).
class Subscriber {
 public:
  virtual ~Subscriber() = default;
  virtual std::int64_t user_id() const = 0;
  virtual void send(std::shared_ptr<const std::string> frame) = 0;
};

/// Where a client last was in a topic.
struct StreamPosition {
  std::uint64_t offset = 0;
  std::string epoch;
};

/// Who of a topic's subscribers an event reaches when not all of them should (group chats: a block
/// hides each side's events from the other; a member who left hears of it and then no more).
struct Audience {
  /// These users' connections neither receive the event nor recover it on a resubscribe.
  std::vector<std::int64_t> hidden_from{};
  /// This user's connections receive the event and then leave the topic (on every instance).
  std::optional<std::int64_t> last_for{};
};

/// May `user` subscribe to topic `<family>:<id>`? Runs on a worker thread; may query the database.
using AccessCheck = std::function<bool(const auth::AuthUser& user, const std::string& id)>;

/// Answers a client message of a type a module registered (room playback control, room chat).
/// Runs on a worker thread (it may query the database). Returns the reply's fields; throws
/// ApiError for an error frame. `message` is the whole client frame.
using RequestHandler = std::function<nlohmann::json(const auth::AuthUser& user, const nlohmann::json& message)>;

/// A user's connection closed while subscribed to `<family>:<id>` and they did not subscribe to it
/// again within ws_departure_grace_ms (on this instance). Runs on a worker thread.
using Departure = std::function<void(std::int64_t user_id, const std::string& id)>;

/// Result of a subscribe: when `recovered` is true, `missed` holds every event after the given
/// position, oldest first; when false the client must reload the topic's state over REST.
struct Subscription {
  bool recovered = false;
  std::vector<std::shared_ptr<const std::string>> missed;
  StreamPosition position;  // the topic's current position
};

/// The public face modules use. Implementation details (rings, locks, the LISTEN thread) are
/// the hub's own; modules call only these.
class Hub {
 public:
  virtual ~Hub() = default;
  /// Declares a topic family ("chat") and who may subscribe to it. Unknown families are refused.
  virtual void register_topic(const std::string& family, AccessCheck check) = 0;
  /// Declares a client message type ("seek") and who answers it. The protocol's own types
  /// (authenticate, subscribe, unsubscribe, ping, time.sync) cannot be taken.
  virtual void register_request(const std::string& type, RequestHandler handler) = 0;
  /// Asks to hear of users whose connection to a topic of `family` closed and stayed away past
  /// the grace period (watch-together rooms: a disconnect counts as leaving). Not on unsubscribe.
  virtual void on_departure(const std::string& family, Departure departed) = 0;
  /// Publishes {"type","topic","data","ts","offset","epoch"} to the topic's subscribers on every
  /// instance, narrowed by `audience`. Thread-safe, never blocks on a slow client. Returns the
  /// event's local offset (a subscriber the event is hidden from sees a gap in offsets).
  virtual std::uint64_t publish(const std::string& topic, const std::string& type, const nlohmann::json& data,
                                const Audience& audience = {}) = 0;
  /// Sends an event to every open connection of `user_id`, on every instance. It is published on
  /// the user's personal topic "user:<id>", which each of their connections joins when it
  /// authenticates, so it carries topic, offset and epoch like any event and is recoverable too.
  virtual void send_to_user(std::int64_t user_id, const std::string& type, const nlohmann::json& data) = 0;
  /// True when the user has at least one open connection on any instance seen by this one
  /// (used e.g. to decide whether a direct message also needs a stored notification).
  virtual bool is_online(std::int64_t user_id) const = 0;
};

}  // namespace reelhub::ws
