#include "model.hpp"

namespace reelhub::videos {

const char* video_status_name(VideoStatus status) {
  switch (status) {
    case VideoStatus::ready: return "ready";
    case VideoStatus::failed: return "failed";
    case VideoStatus::processing: return "processing";
  }
  return "processing";
}

std::optional<VideoStatus> parse_video_status(std::string_view name) {
  if (name == "processing") return VideoStatus::processing;
  if (name == "ready") return VideoStatus::ready;
  if (name == "failed") return VideoStatus::failed;
  return std::nullopt;
}

}  // namespace reelhub::videos
