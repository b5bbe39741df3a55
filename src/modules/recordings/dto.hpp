#pragma once
// JSON shapes of the recordings endpoints (seed 002 "VOD SERVICE API") and of the events
// published on `stream:<id>`.

#include <nlohmann/json.hpp>

#include "model.hpp"

namespace reelhub::recordings {

/// {id, stream_id, user_id, username, title, status, duration_seconds, file_size_bytes, file_path,
///  thumbnail_path, failure_reason, created_at, updated_at}; the paths are the public URLs of the
/// video and thumbnail endpoints, null until there is something to serve there.
nlohmann::json recording_json(const Recording& recording);
/// {recordings: [...], total, pagination: {limit, offset, has_more}}
nlohmann::json recording_page_json(const RecordingPage& page);
/// The `recording_ready` event: {stream_id, status, duration_seconds, file_size_bytes, file_path, thumbnail_path}.
nlohmann::json ready_event_json(const Recording& recording);

}  // namespace reelhub::recordings
