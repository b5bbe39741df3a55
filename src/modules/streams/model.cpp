#include "model.hpp"

namespace reelhub::streams {

const char* status_name(StreamStatus s) {
  switch (s) {
    case StreamStatus::created: return "created";
    case StreamStatus::waiting: return "waiting";
    case StreamStatus::active: return "active";
    case StreamStatus::stopped: return "stopped";
  }
  return "created";
}

std::optional<StreamStatus> parse_status(std::string_view s) {
  for (const StreamStatus st : {StreamStatus::created, StreamStatus::waiting, StreamStatus::active, StreamStatus::stopped})
    if (s == status_name(st)) return st;
  return std::nullopt;
}

}  // namespace reelhub::streams
