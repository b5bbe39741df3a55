#pragma once
// JSON shapes of the rooms endpoints.

#include <nlohmann/json.hpp>

#include "model.hpp"

namespace reelhub::rooms {

/// A room in the list: {id, title, private, host: {id, username}, playing: {type, id, title},
/// video_id, recording_id, participant_count, created_at}
nlohmann::json room_summary_json(const Room& room);
/// The summary plus participants: [{id, username, seat, joined_at}], playback: {state, position,
/// rate, updated_at}, slow_mode_seconds
nlohmann::json room_json(const Room& room);
/// {rooms: [summaries], next_cursor}
nlohmann::json room_page_json(const RoomPage& page);
/// {room_id, user_id}: the answer to an invitation sent.
nlohmann::json invited_json(const std::string& room_id, std::int64_t user_id);

}  // namespace reelhub::rooms
