#include "dto.hpp"

#include "reelhub/core/json.hpp"
#include "reelhub/core/time.hpp"

namespace reelhub::rooms {

nlohmann::json room_summary_json(const Room& room) {
  const bool video = room.media.kind == MediaKind::video;
  const std::optional<std::string> none;
  return {{"id", room.id},
          {"title", room.title},
          {"private", room.is_private},
          {"host", {{"id", room.host_id}, {"username", room.host_username}}},
          {"playing", {{"type", media_kind_name(room.media.kind)}, {"id", room.media.id}, {"title", room.media.title}}},
          {"video_id", nullable(video ? std::optional(room.media.id) : none)},
          {"recording_id", nullable(video ? none : std::optional(room.media.id))},
          {"participant_count", room.participant_count},
          {"created_at", room.created_at}};
}

nlohmann::json room_json(const Room& room) {
  nlohmann::json out = room_summary_json(room);
  nlohmann::json participants = nlohmann::json::array();
  for (const auto& p : room.participants) {
    participants.push_back(
        {{"id", p.id}, {"username", p.username}, {"seat", seat_name(p.seat)}, {"joined_at", p.joined_at},
         {"can_control", p.can_control || p.seat == Seat::host}});
  }
  out["participants"] = std::move(participants);
  out["playback"] = playback_json(room.playback);
  out["slow_mode_seconds"] = room.slow_mode_seconds;
  return out;
}

nlohmann::json playback_json(const Playback& playback) {
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(playback.updated_at.time_since_epoch());
  return {{"state", playback.playing ? "playing" : "paused"},
          {"position", playback.position},
          {"rate", playback.rate},
          {"updated_at", iso8601_millis(playback.updated_at)},
          {"updated_at_ms", static_cast<double>(micros.count()) / 1000.0}};
}

nlohmann::json message_json(const RoomMessage& m) {
  return {{"id", m.id}, {"user_id", m.user_id}, {"username", m.username}, {"text", m.text}, {"created_at", m.created_at}};
}

nlohmann::json message_page_json(const MessagePage& page) {
  nlohmann::json messages = nlohmann::json::array();
  for (const auto& m : page.messages) messages.push_back(message_json(m));
  return {{"messages", std::move(messages)}, {"next_cursor", nullable(page.next_cursor)}};
}

nlohmann::json room_page_json(const RoomPage& page) {
  nlohmann::json rooms = nlohmann::json::array();
  for (const auto& room : page.rooms) rooms.push_back(room_summary_json(room));
  return {{"rooms", std::move(rooms)},
          {"next_cursor", nullable(page.next_cursor)}};
}

nlohmann::json invited_json(const std::string& room_id, std::int64_t user_id) {
  return {{"room_id", room_id}, {"user_id", user_id}};
}

}  // namespace reelhub::rooms
