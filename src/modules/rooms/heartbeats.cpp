#include "heartbeats.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <vector>

namespace reelhub::rooms {

Heartbeats::Heartbeats(std::chrono::milliseconds interval, Publish publish)
    : interval_(interval), publish_(std::move(publish)), thread_([this] { run(); }) {}

Heartbeats::~Heartbeats() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void Heartbeats::changed(const std::string& room_id, const Playback& playback, const char* cause) {
  std::lock_guard publishing(publish_mutex_);
  {
    std::lock_guard lock(mutex_);
    auto it = rooms_.find(room_id);
    if (it != rooms_.end() && (it->second.closed || it->second.playback.updated_at > playback.updated_at)) {
      return;  // closed meanwhile, or overtaken by a later change
    }
    rooms_[room_id] = Room{playback, std::chrono::steady_clock::now() + interval_};
  }
  wake_.notify_all();
  publish_(room_id, playback, cause);
}

void Heartbeats::forget(const std::string& room_id) {
  std::lock_guard publishing(publish_mutex_);
  {
    std::lock_guard lock(mutex_);
    rooms_[room_id] = Room{.playback = {}, .due = std::chrono::steady_clock::now() + kClosedMemory, .closed = true};
  }
  wake_.notify_all();
}

void Heartbeats::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    auto next = std::chrono::steady_clock::time_point::max();
    for (const auto& [id, room] : rooms_)
      if (room.playback.playing || room.closed) next = std::min(next, room.due);
    if (next == std::chrono::steady_clock::time_point::max()) wake_.wait(lock);
    else wake_.wait_until(lock, next);
    if (stopping_) break;
    lock.unlock();

    // Publishing order first, then the map: a change cannot slip between choosing a beat and
    // publishing it, so no beat repeats a state a newer change has replaced.
    std::lock_guard publishing(publish_mutex_);
    lock.lock();
    const auto now = std::chrono::steady_clock::now();
    const auto wall = std::chrono::system_clock::now();
    std::vector<std::pair<std::string, Playback>> due;
    std::erase_if(rooms_, [&](const auto& entry) { return entry.second.closed && entry.second.due <= now; });
    for (auto& [id, room] : rooms_) {
      if (room.closed || !room.playback.playing || room.due > now) continue;
      due.emplace_back(id, room.playback.at(wall));
      room.due += interval_;
      if (room.due <= now) room.due = now + interval_;  // fell behind: no burst of catch-up beats
    }
    lock.unlock();
    for (const auto& [id, playback] : due) {
      try {
        publish_(id, playback, "heartbeat");
      } catch (const std::exception& e) {
        spdlog::warn("rooms: heartbeat of room {} failed: {}", id, e.what());
      }
    }
    lock.lock();
  }
}

}  // namespace reelhub::rooms
