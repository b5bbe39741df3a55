#include "reelhub/ws/topics.hpp"

#include <algorithm>

#include "reelhub/core/random.hpp"
#include "reelhub/ws/protocol.hpp"

namespace reelhub::ws {
namespace {

bool is_hidden_from(const std::vector<std::int64_t>& hidden_from, std::int64_t user_id) {
  return std::find(hidden_from.begin(), hidden_from.end(), user_id) != hidden_from.end();
}

}  // namespace

std::shared_ptr<Topics::Topic> Topics::find(const std::string& topic) const {
  std::lock_guard lock(mutex_);
  auto it = topics_.find(topic);
  return it == topics_.end() ? nullptr : it->second;
}

void Topics::trim(Topic& t) const {
  while (!t.ring.empty() && (t.ring.size() > options_.history_size || t.ring_bytes > options_.history_bytes)) {
    t.ring_bytes -= t.ring.front().frame->size();
    t.ring.pop_front();
  }
}

std::uint64_t Topics::publish(const std::string& topic, const std::string& type, const std::string& data_json,
                              const std::string& ts, const Audience& audience) {
  auto t = find(topic);
  if (!t) return 0;
  // Queueing happens under the topic's lock so subscribers see offsets in order. It never waits on
  // a client: Subscriber::send only appends to a bounded queue or closes that connection.
  std::lock_guard lock(t->mutex);
  const std::uint64_t offset = ++t->offset;
  auto frame = std::make_shared<const std::string>(event_frame(topic, type, data_json, ts, offset, t->epoch));
  t->ring.push_back({offset, frame, audience.hidden_from});
  t->ring_bytes += frame->size();
  trim(*t);
  t->last_active = std::chrono::steady_clock::now();
  for (const auto& [raw, weak] : t->subscribers)
    if (auto s = weak.lock(); s && !is_hidden_from(audience.hidden_from, s->user_id())) s->send(frame);
  if (audience.last_for) {
    std::erase_if(t->subscribers, [&](const auto& entry) {
      const auto s = entry.second.lock();
      return s && s->user_id() == *audience.last_for;
    });
  }
  return offset;
}

void Topics::subscribe(const std::string& topic, const std::shared_ptr<Subscriber>& subscriber,
                       const std::optional<StreamPosition>& since,
                       const std::function<void(const Subscription&)>& deliver) {
  std::unique_lock map_lock(mutex_);
  auto& slot = topics_[topic];
  if (!slot) {
    slot = std::make_shared<Topic>();
    slot->epoch = random_hex(4);
    slot->last_active = std::chrono::steady_clock::now();
  }
  auto t = slot;
  // Taking the topic's lock before letting go of the map's keeps sweep() from evicting it meanwhile.
  std::lock_guard lock(t->mutex);
  map_lock.unlock();

  const Subscriber* raw = subscriber.get();
  if (std::none_of(t->subscribers.begin(), t->subscribers.end(), [raw](const auto& s) { return s.first == raw; }))
    t->subscribers.emplace_back(raw, subscriber);

  Subscription result;
  result.position = {t->offset, t->epoch};
  if (since && since->epoch == t->epoch && since->offset <= t->offset &&
      t->offset - since->offset <= t->ring.size()) {
    result.recovered = true;
    for (const auto& e : t->ring)
      if (e.offset > since->offset && !is_hidden_from(e.hidden_from, subscriber->user_id()))
        result.missed.push_back(e.frame);
  }
  deliver(result);
}

bool Topics::unsubscribe(const std::string& topic, const Subscriber* subscriber) {
  auto t = find(topic);
  if (!t) return false;
  std::lock_guard lock(t->mutex);
  auto it = std::find_if(t->subscribers.begin(), t->subscribers.end(),
                         [subscriber](const auto& s) { return s.first == subscriber; });
  if (it == t->subscribers.end()) return false;
  *it = std::move(t->subscribers.back());
  t->subscribers.pop_back();
  t->last_active = std::chrono::steady_clock::now();
  return true;
}

void Topics::reset_epochs() {
  std::lock_guard map_lock(mutex_);
  for (auto& [name, t] : topics_) {
    std::lock_guard lock(t->mutex);
    t->epoch = random_hex(4);
    t->ring.clear();
    t->ring_bytes = 0;
  }
}

void Topics::sweep(std::chrono::steady_clock::time_point now) {
  std::lock_guard map_lock(mutex_);
  std::vector<std::pair<std::chrono::steady_clock::time_point, std::string>> idle;
  for (auto it = topics_.begin(); it != topics_.end();) {
    auto& t = *it->second;
    std::lock_guard lock(t.mutex);
    if (!t.subscribers.empty()) {
      ++it;
    } else if (now - t.last_active >= options_.idle_ttl) {
      it = topics_.erase(it);
    } else {
      idle.emplace_back(t.last_active, it->first);
      ++it;
    }
  }
  if (idle.size() <= options_.max_idle_topics) return;
  const auto excess = idle.size() - options_.max_idle_topics;
  std::nth_element(idle.begin(), idle.begin() + static_cast<std::ptrdiff_t>(excess), idle.end());
  for (std::size_t i = 0; i < excess; ++i) topics_.erase(idle[i].second);
}

std::size_t Topics::subscriber_count(const std::string& topic) const {
  auto t = find(topic);
  if (!t) return 0;
  std::lock_guard lock(t->mutex);
  return t->subscribers.size();
}

bool Topics::has_user(const std::string& topic, std::int64_t user_id) const {
  auto t = find(topic);
  if (!t) return false;
  std::lock_guard lock(t->mutex);
  for (const auto& [raw, weak] : t->subscribers) {
    if (const auto subscriber = weak.lock(); subscriber && subscriber->user_id() == user_id) return true;
  }
  return false;
}

std::size_t Topics::topic_count() const {
  std::lock_guard lock(mutex_);
  return topics_.size();
}

}  // namespace reelhub::ws
