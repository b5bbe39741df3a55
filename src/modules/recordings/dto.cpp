#include "dto.hpp"

#include <cmath>

#include "reelhub/core/json.hpp"

namespace reelhub::recordings {
namespace {

std::string endpoint(const Recording& r, const char* file) {
  std::string url = "/api/v1/recordings/";
  url += r.stream_id;
  url += '/';
  url += file;
  return url;
}

nlohmann::json video_url(const Recording& r) {
  return r.status == "ready" ? nlohmann::json(endpoint(r, "video")) : nlohmann::json(nullptr);
}

nlohmann::json thumbnail_url(const Recording& r) {
  return r.status == "ready" && r.has_thumbnail ? nlohmann::json(endpoint(r, "thumbnail")) : nlohmann::json(nullptr);
}

/// Milliseconds are precision enough, and keep 12.000000001 out of the JSON.
nlohmann::json seconds(const std::optional<double>& value) {
  return value ? nlohmann::json(std::round(*value * 1000) / 1000) : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json recording_json(const Recording& r) {
  return {{"id", r.id},
          {"stream_id", r.stream_id},
          {"user_id", r.user_id},
          {"username", r.username},
          {"title", r.title},
          {"status", r.status},
          {"duration_seconds", seconds(r.duration_seconds)},
          {"file_size_bytes", nullable(r.file_size_bytes)},
          {"file_path", video_url(r)},
          {"thumbnail_path", thumbnail_url(r)},
          // While processing it may hold a failed first attempt: only a final failure is news.
          {"failure_reason", r.status == "failed" ? nullable(r.failure_reason) : nlohmann::json(nullptr)},
          {"created_at", r.created_at},
          {"updated_at", r.updated_at}};
}

nlohmann::json recording_page_json(const RecordingPage& page) {
  nlohmann::json recordings = nlohmann::json::array();
  for (const auto& r : page.recordings) recordings.push_back(recording_json(r));
  const bool has_more = page.offset + static_cast<std::int64_t>(page.recordings.size()) < page.total;
  return {{"recordings", std::move(recordings)},
          {"total", page.total},
          {"pagination", {{"limit", page.limit}, {"offset", page.offset}, {"has_more", has_more}}}};
}

nlohmann::json ready_event_json(const Recording& r) {
  return {{"stream_id", r.stream_id},
          {"status", r.status},
          {"duration_seconds", seconds(r.duration_seconds)},
          {"file_size_bytes", nullable(r.file_size_bytes)},
          {"file_path", video_url(r)},
          {"thumbnail_path", thumbnail_url(r)}};
}

}  // namespace reelhub::recordings
