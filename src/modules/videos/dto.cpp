#include "dto.hpp"

#include "reelhub/core/json.hpp"

namespace reelhub::videos {
namespace {

using nlohmann::json;

json cursor_json(const std::optional<std::string>& cursor) { return nullable(cursor); }

std::string hls_url(const Video& video, const char* file) {
  std::string url = "/hls/";
  url += video.id;
  url += '/';
  url += file;
  return url;
}

}  // namespace

json video_json(const Video& video) {
  const bool ready = video.status == VideoStatus::ready;
  json out = {{"id", video.id},
              {"user_id", video.owner_id},
              {"username", video.owner_username},
              {"title", video.title},
              {"description", video.description},
              {"status", video_status_name(video.status)},
              {"progress_percent", video.progress_percent},
              {"duration_seconds", nullable(video.duration_seconds)},
              {"width", nullable(video.width)},
              {"height", nullable(video.height)},
              {"variants", video.variants},
              {"likes_count", video.likes_count},
              {"comments_count", video.comments_count},
              {"views_count", video.views_count},
              {"hls_url", ready ? json(hls_url(video, "master.m3u8")) : json(nullptr)},
              {"thumbnail_url", ready ? json(hls_url(video, "thumbnail.jpg")) : json(nullptr)},
              {"preview_url", ready ? json(hls_url(video, "preview.mp4")) : json(nullptr)},
              {"created_at", video.created_at}};
  if (video.liked) out["liked"] = *video.liked;
  if (video.failure_reason) out["failure_reason"] = *video.failure_reason;
  return out;
}

json video_page_json(const VideoPage& page) {
  json videos = json::array();
  for (const auto& v : page.videos) videos.push_back(video_json(v));
  return {{"videos", videos}, {"next_cursor", cursor_json(page.next_cursor)}};
}

json status_json(const Video& video) {
  json out = {{"video_id", video.id},
              {"status", video_status_name(video.status)},
              {"progress_percent", video.progress_percent},
              {"variants", video.variants}};
  if (video.queue_position) out["queue_position"] = *video.queue_position;
  if (video.failure_reason) out["failure_reason"] = *video.failure_reason;
  return out;
}

json comment_json(const Comment& comment) {
  return {{"id", comment.id},           {"video_id", comment.video_id}, {"user_id", comment.user_id},
          {"username", comment.username}, {"text", comment.text},       {"created_at", comment.created_at}};
}

json comment_page_json(const CommentPage& page) {
  json comments = json::array();
  for (const auto& c : page.comments) comments.push_back(comment_json(c));
  return {{"comments", comments}, {"next_cursor", cursor_json(page.next_cursor)}};
}

json like_json(const LikeState& like) {
  return {{"video_id", like.video_id}, {"liked", like.liked}, {"likes_count", like.likes_count}};
}

json view_json(const ViewCount& view) {
  return {{"video_id", view.video_id}, {"counted", view.counted}, {"views_count", view.views_count}};
}

}  // namespace reelhub::videos
