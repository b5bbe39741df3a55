#pragma once
// What the videos module stores: videos (with their transcode job), likes, comments, views.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace reelhub::videos {

enum class VideoStatus { processing, ready, failed };
const char* video_status_name(VideoStatus status);
std::optional<VideoStatus> parse_video_status(std::string_view name);

struct Video {
  std::string id;  // uuid
  std::int64_t owner_id = 0;
  std::string owner_username;
  std::string title;
  std::string description;
  VideoStatus status = VideoStatus::processing;
  int progress_percent = 0;
  std::optional<std::string> failure_reason;
  std::optional<double> duration_seconds;
  std::optional<int> width;
  std::optional<int> height;
  std::vector<std::string> variants;  // rung names, lowest first
  std::optional<std::int64_t> queue_position;  // while waiting for a worker; filled by the status only
  std::int64_t likes_count = 0;
  std::int64_t comments_count = 0;
  std::int64_t views_count = 0;
  std::optional<bool> liked;  // by the caller; unset without one
  std::string created_at;     // ISO 8601 Z
  std::string position;       // keyset position in the feed, the next page's cursor
};

struct Comment {
  std::string id;  // uuid
  std::string video_id;
  std::int64_t user_id = 0;
  std::string username;
  std::string text;
  std::string created_at;
  std::string position;  // keyset position in the comment list
};

/// A claimed transcode job.
struct Job {
  std::string video_id;
  std::int64_t owner_id = 0;
  int attempts = 0;  // including this one
};

struct VideoPage {
  std::vector<Video> videos{};
  std::optional<std::string> next_cursor{};
};

struct CommentPage {
  std::vector<Comment> comments{};
  std::optional<std::string> next_cursor{};
};

struct LikeState {
  std::string video_id;
  bool liked = false;
  std::int64_t likes_count = 0;
};

struct ViewCount {
  std::string video_id;
  bool counted = false;  // false: this viewer's view was counted within the hour already
  std::int64_t views_count = 0;
};

}  // namespace reelhub::videos
