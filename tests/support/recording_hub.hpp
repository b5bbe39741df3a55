#pragma once
// A ws::Hub that records what modules publish instead of sending it, for service tests.

#include <cstdint>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "reelhub/ws/hub.hpp"

namespace reelhub::testing {

class RecordingHub : public ws::Hub {
 public:
  /// One publish() or send_to_user() call; `topic` is "user:<id>" for the latter.
  struct Event {
    std::string topic;
    std::string type;
    nlohmann::json data;
    ws::Audience audience{};
  };

  void register_topic(const std::string& family, ws::AccessCheck check) override {
    std::lock_guard lock(mutex_);
    checks_[family] = std::move(check);
  }
  void register_request(const std::string& type, ws::RequestHandler handler) override {
    std::lock_guard lock(mutex_);
    requests_[type] = std::move(handler);
  }
  void on_departure(const std::string& family, ws::Departure departed) override {
    std::lock_guard lock(mutex_);
    departures_[family] = std::move(departed);
  }
  std::uint64_t publish(const std::string& topic, const std::string& type, const nlohmann::json& data,
                        const ws::Audience& audience = {}) override {
    std::lock_guard lock(mutex_);
    events_.push_back({topic, type, data, audience});
    return events_.size();
  }
  void send_to_user(std::int64_t user_id, const std::string& type, const nlohmann::json& data) override {
    std::lock_guard lock(mutex_);
    events_.push_back({"user:" + std::to_string(user_id), type, data, {}});
  }
  bool is_online(std::int64_t user_id) const override {
    std::lock_guard lock(mutex_);
    return online_.count(user_id) > 0;
  }

  void set_online(std::int64_t user_id, bool online) {
    std::lock_guard lock(mutex_);
    if (online) online_.insert(user_id);
    else online_.erase(user_id);
  }
  /// The access check registered for `family` (e.g. "chat"); throws when none was.
  ws::AccessCheck check(const std::string& family) const {
    std::lock_guard lock(mutex_);
    return checks_.at(family);
  }
  /// Events on `topic` of `type` ("" = any type), oldest first.
  std::vector<Event> events(const std::string& topic, const std::string& type = "") const {
    std::lock_guard lock(mutex_);
    std::vector<Event> out;
    for (const auto& e : events_)
      if (e.topic == topic && (type.empty() || e.type == type)) out.push_back(e);
    return out;
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::string, ws::AccessCheck> checks_;
  std::map<std::string, ws::RequestHandler> requests_;
  std::map<std::string, ws::Departure> departures_;
  std::vector<Event> events_;
  std::set<std::int64_t> online_;
};

}  // namespace reelhub::testing
