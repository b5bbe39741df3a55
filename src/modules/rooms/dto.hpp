#pragma once
// JSON shapes of the rooms endpoints.

#include <nlohmann/json.hpp>

#include "model.hpp"

namespace reelhub::rooms {

/// A room in the list: {id, title, private, host: {id, username}, playing: {type, id, title},
/// video_id, recording_id, participant_count, created_at}
nlohmann::json room_summary_json(const Room& room);
/// The summary plus participants: [{id, username, seat, joined_at, can_control}], playback: {state, position,
/// rate, updated_at, updated_at_ms} (see playback_json), slow_mode_seconds
nlohmann::json room_json(const Room& room);
/// {state: playing|paused, position (seconds), rate, updated_at (ISO 8601 with milliseconds),
/// updated_at_ms (the same in milliseconds since the Unix epoch)}: `position` holds at `updated_at`
/// on the server's clock and, while playing, advances by `rate` per second after it.
nlohmann::json playback_json(const Playback& playback);
/// {id, user_id, username, text, created_at}
nlohmann::json message_json(const RoomMessage& message);
/// {messages: [newest first], next_cursor}
nlohmann::json message_page_json(const MessagePage& page);
/// {rooms: [summaries], next_cursor}
nlohmann::json room_page_json(const RoomPage& page);
/// {room_id, user_id}: the answer to an invitation sent.
nlohmann::json invited_json(const std::string& room_id, std::int64_t user_id);

}  // namespace reelhub::rooms
