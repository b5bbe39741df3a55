#pragma once
// Publishing a room's playback state in order (docs/realtime.md "Playback sync"): each change, and
// its repetition every heartbeat while the room plays. One thread serves every room of this
// process, sleeping until the next one is due. Changes arrive from worker threads after their
// transactions commit, so two of one room may arrive out of order: the one stamped earlier than
// what was published already is dropped, and a heartbeat never follows the change that stopped it.
// The instance that took a room's last change repeats it (after a restart, from the next change on).

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "model.hpp"

namespace reelhub::rooms {

class Heartbeats {
 public:
  /// Publishes the room's state; `cause` is the action that changed it, or "heartbeat".
  using Publish = std::function<void(const std::string& room_id, const Playback& playback, const char* cause)>;

  Heartbeats(std::chrono::milliseconds interval, Publish publish);
  ~Heartbeats();
  Heartbeats(const Heartbeats&) = delete;
  Heartbeats& operator=(const Heartbeats&) = delete;

  /// A committed change: published unless a later-stamped one was already; while playing, repeated
  /// one interval from now and every interval after, brought to the moment of each repetition.
  void changed(const std::string& room_id, const Playback& playback, const char* cause);
  /// The room closed: no more heartbeats, and for a while no change either (one committed just
  /// before the close may still arrive).
  void forget(const std::string& room_id);

 private:
  struct Room {
    Playback playback;                          // as last published
    std::chrono::steady_clock::time_point due;  // next heartbeat while playing; when closed, when to drop it
    bool closed = false;
  };
  /// How long a closed room is remembered, to refuse a late change.
  static constexpr std::chrono::minutes kClosedMemory{1};
  void run();

  const std::chrono::milliseconds interval_;
  const Publish publish_;
  // Held while publishing (changes and heartbeats alike), so the hub sees each room's states in
  // stamp order; taken before mutex_ when both are needed.
  std::mutex publish_mutex_;
  std::mutex mutex_;  // guards the fields below
  std::condition_variable wake_;
  bool stopping_ = false;
  std::map<std::string, Room> rooms_;
  std::thread thread_;  // last: it uses everything above
};

}  // namespace reelhub::rooms
