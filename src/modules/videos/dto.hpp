#pragma once
// JSON shapes of the videos endpoints.

#include <nlohmann/json.hpp>

#include "model.hpp"

namespace reelhub::videos {

/// {id, user_id, username, title, description, status, progress_percent, failure_reason?,
///  duration_seconds, width, height, variants, likes_count, comments_count, views_count, liked?,
///  hls_url, thumbnail_url, preview_url, created_at}
nlohmann::json video_json(const Video& video);
/// {videos: [...], next_cursor}
nlohmann::json video_page_json(const VideoPage& page);
/// GET /hls/{id}/status: {video_id, status, progress_percent, variants, queue_position?, failure_reason?}
nlohmann::json status_json(const Video& video);
/// {id, video_id, user_id, username, text, created_at}
nlohmann::json comment_json(const Comment& comment);
nlohmann::json comment_page_json(const CommentPage& page);
nlohmann::json like_json(const LikeState& like);
nlohmann::json view_json(const ViewCount& view);

}  // namespace reelhub::videos
