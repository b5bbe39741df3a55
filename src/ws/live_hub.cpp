#include "reelhub/ws/live_hub.hpp"

#include <spdlog/spdlog.h>

#include <stdexcept>

#include "reelhub/auth/session_cache.hpp"
#include "reelhub/core/random.hpp"
#include "reelhub/core/time.hpp"
#include "reelhub/db/pool.hpp"
#include "reelhub/db/statements.hpp"
#include "reelhub/metrics/registry.hpp"
#include "fanout.hpp"

namespace reelhub::ws {
namespace {

/// Is the user connected to any instance whose heartbeat is fresh? Asked on a pooled connection.
const db::Statement kOnline{
    "ws.online",
    "SELECT EXISTS (SELECT 1 FROM ws_presence p JOIN ws_instances i ON i.id = p.instance_id "
    "WHERE p.user_id = $1 AND i.heartbeat_at > now() - make_interval(secs => $2))"};

using Series = std::vector<std::pair<metrics::Labels, double>>;

/// Session revocations travel between instances as envelopes on this pseudo-topic. It has no
/// ':' and so can never be the name of a real topic (parse_topic refuses it).
constexpr const char* kSessionsTopic = "sessions";
constexpr const char* kSessionEnded = "session_ended";

TopicsOptions topics_options(const Config& c) {
  TopicsOptions o;
  o.history_size = static_cast<std::size_t>(c.ws_history_size);
  o.idle_ttl = std::chrono::seconds(c.ws_history_ttl_seconds);
  return o;
}

}  // namespace

LiveHub::LiveHub(const Config& config, db::Pool& db, metrics::Registry& metrics)
    : config_(config), db_(db), instance_id_(random_hex(8)), topics_(topics_options(config)) {
  // The personal topic of send_to_user: only its owner may (re)subscribe, e.g. to recover.
  register_topic("user", [](const auth::AuthUser& user, const std::string& id) { return id == std::to_string(user.id); });

  auto value = [](const auto& v) { return [&v] { return Series{{{}, double(v.load())}}; }; };
  metrics.gauge_callback("reelhub_ws_connections", [this] {
    std::lock_guard lock(connections_mutex_);
    return Series{{{}, double(connections_.size())}};
  });
  metrics.describe("reelhub_ws_connections", "gauge", "Open WebSocket connections");
  metrics.gauge_callback("reelhub_ws_queue_bytes", value(queue_totals_.bytes));
  metrics.describe("reelhub_ws_queue_bytes", "gauge", "Bytes waiting in WebSocket send queues, all connections");
  metrics.gauge_callback("reelhub_ws_messages_sent_total", value(sent_));
  metrics.describe("reelhub_ws_messages_sent_total", "counter", "WebSocket frames written to clients");
  metrics.gauge_callback("reelhub_ws_messages_dropped_total", value(queue_totals_.dropped));
  metrics.describe("reelhub_ws_messages_dropped_total", "counter",
                   "WebSocket frames discarded because a connection's queue overflowed or it was closing");
  metrics.gauge_callback("reelhub_ws_slow_consumer_disconnects_total", value(slow_consumers_));
  metrics.describe("reelhub_ws_slow_consumer_disconnects_total", "counter",
                   "Connections closed with 1008 because their send queue was full");
  metrics.gauge_callback("reelhub_ws_events_total", [this] {
    return Series{{{{"origin", "local"}}, double(events_local_.load())},
                  {{{"origin", "remote"}}, double(events_remote_.load())}};
  });
  metrics.describe("reelhub_ws_events_total", "counter", "Topic events published here (local) or by other instances");

  Fanout::Hooks hooks;
  hooks.deliver = [this](Envelope&& e) { deliver_remote(std::move(e)); };
  hooks.gap = [this] { topics_.reset_epochs(); };
  hooks.online_users = [this] {
    std::lock_guard lock(connections_mutex_);
    std::vector<std::int64_t> users;
    for (const auto& [user, count] : local_users_) users.push_back(user);
    return users;
  };
  hooks.tick = [this] { topics_.sweep(); };
  fanout_ = std::make_unique<Fanout>(
      FanoutOptions{config.database_url, instance_id_, std::chrono::seconds(config.ws_heartbeat_seconds)},
      std::move(hooks), metrics);
}

LiveHub::~LiveHub() { stop(); }

void LiveHub::start() { fanout_->start(); }

void LiveHub::stop() { fanout_->stop(); }

QueueLimits LiveHub::queue_limits() const {
  return QueueLimits{static_cast<std::size_t>(config_.ws_queue_max_messages),
                     static_cast<std::size_t>(config_.ws_queue_max_bytes)};
}

void LiveHub::register_topic(const std::string& family, AccessCheck check) {
  std::lock_guard lock(families_mutex_);
  families_[family] = std::move(check);
}

std::uint64_t LiveHub::publish(const std::string& topic, const std::string& type, const nlohmann::json& data,
                               const Audience& audience) {
  parse_topic(topic);  // a malformed name is a caller's bug: ApiError(bad_request) says so
  Envelope e{topic, type, dump(data), iso8601_now(), audience};
  const auto offset = topics_.publish(e.topic, e.type, e.data_json, e.ts, e.audience);
  events_local_.fetch_add(1, std::memory_order_relaxed);
  fanout_->publish(e);
  return offset;
}

void LiveHub::deliver_remote(Envelope&& e) {
  if (e.topic == kSessionsTopic) {
    const auto data = nlohmann::json::parse(e.data_json, nullptr, false);
    if (e.type == kSessionEnded && data.is_object() && data.contains("session_id") && data["session_id"].is_string())
      end_session_here(data["session_id"].get<std::string>());
    return;
  }
  topics_.publish(e.topic, e.type, e.data_json, e.ts, e.audience);
  events_remote_.fetch_add(1, std::memory_order_relaxed);
}

void LiveHub::send_to_user(std::int64_t user_id, const std::string& type, const nlohmann::json& data) {
  publish(personal_topic(user_id), type, data);
}

bool LiveHub::is_online(std::int64_t user_id) const {
  {
    std::lock_guard lock(connections_mutex_);
    if (local_users_.count(user_id)) return true;
  }
  try {
    const int stale_after = 3 * config_.ws_heartbeat_seconds;
    return db_.transact([&](pqxx::work& tx) {
      return tx.exec_prepared1(kOnline.name(), user_id, stale_after)[0].as<bool>();
    });
  } catch (const std::exception& e) {
    // Unknown counts as offline: the caller then stores a notification, which is never wrong.
    spdlog::warn("ws presence lookup for user {} failed: {}", user_id, e.what());
    return false;
  }
}

void LiveHub::register_request(const std::string& type, RequestHandler handler) {
  if (is_protocol_type(type)) throw std::logic_error("'" + type + "' is a type of the protocol itself");
  std::lock_guard lock(families_mutex_);
  requests_[type] = std::move(handler);
}

void LiveHub::on_departure(const std::string& family, Departure departed) {
  std::lock_guard lock(families_mutex_);
  departures_[family] = std::move(departed);
}

bool LiveHub::watches_departures(const std::string& topic) const {
  const auto colon = topic.find(':');
  if (colon == std::string::npos) return false;
  std::lock_guard lock(families_mutex_);
  return departures_.count(topic.substr(0, colon)) > 0;
}

void LiveHub::report_departure(std::int64_t user_id, const std::string& topic) const {
  const TopicName name = parse_topic(topic);
  Departure departed;
  {
    std::lock_guard lock(families_mutex_);
    auto it = departures_.find(name.family);
    if (it == departures_.end()) return;
    departed = it->second;
  }
  try {
    departed(user_id, name.id);
  } catch (const std::exception& e) {
    spdlog::warn("ws: departure of user {} from {} not handled: {}", user_id, topic, e.what());
  }
}

bool LiveHub::closing() const {
  std::lock_guard lock(connections_mutex_);
  return closing_all_.has_value();
}

RequestHandler LiveHub::request_handler(const std::string& type) const {
  std::lock_guard lock(families_mutex_);
  auto it = requests_.find(type);
  return it == requests_.end() ? RequestHandler{} : it->second;
}

void LiveHub::check_access(const auth::AuthUser& user, const std::string& topic) const {
  const TopicName name = parse_topic(topic);
  AccessCheck check;
  {
    std::lock_guard lock(families_mutex_);
    auto it = families_.find(name.family);
    if (it == families_.end()) throw ApiError(ErrorCode::not_found, "Unknown topic family '" + name.family + "'");
    check = it->second;
  }
  if (!check(user, name.id)) throw ApiError(ErrorCode::forbidden, "Not allowed to subscribe to " + topic);
}

void LiveHub::attach(const std::shared_ptr<Connection>& connection) {
  std::optional<CloseCode> closing;
  {
    std::lock_guard lock(connections_mutex_);
    connections_[connection.get()] = connection;
    closing = closing_all_;
  }
  // Its handshake finished after the drain started: it missed close_all().
  if (closing) connection->close(*closing, "Server shutting down");
}

void LiveHub::detach(const Connection* connection) {
  std::lock_guard lock(connections_mutex_);
  connections_.erase(connection);
}

void LiveHub::user_connected(std::int64_t user_id) {
  std::lock_guard lock(connections_mutex_);
  if (++local_users_[user_id] == 1) fanout_->presence_changed(user_id, true);
}

void LiveHub::user_disconnected(std::int64_t user_id) {
  std::lock_guard lock(connections_mutex_);
  auto it = local_users_.find(user_id);
  if (it == local_users_.end()) return;
  if (--it->second == 0) {
    local_users_.erase(it);
    fanout_->presence_changed(user_id, false);
  }
}

void LiveHub::end_session(const std::string& session_id) {
  end_session_here(session_id);
  fanout_->publish(Envelope{kSessionsTopic, kSessionEnded, dump({{"session_id", session_id}}), iso8601_now(), {}});
}

void LiveHub::end_session_here(const std::string& session_id) {
  if (sessions_) sessions_->ended(session_id);
  // Each connection compares on its own event loop; revocations are rare next to requests.
  for (auto& c : open_connections()) c->session_ended(session_id);
}

std::vector<std::shared_ptr<Connection>> LiveHub::open_connections() const {
  std::vector<std::shared_ptr<Connection>> open;
  std::lock_guard lock(connections_mutex_);
  for (const auto& [raw, weak] : connections_)
    if (auto c = weak.lock()) open.push_back(std::move(c));
  return open;
}

void LiveHub::close_all(CloseCode code, const std::string& reason) {
  {
    std::lock_guard lock(connections_mutex_);
    closing_all_ = code;
  }
  // One attached in between closes itself in attach(); close() is idempotent.
  for (auto& c : open_connections()) c->close(code, reason);
}

}  // namespace reelhub::ws
