#pragma once
// A live stream as the streams module stores it.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace reelhub::streams {

/// created → waiting (started, listener ready) → active (media arriving) → stopped.
/// A publisher dropping sends active back to waiting; stopped is final.
enum class StreamStatus { created, waiting, active, stopped };
const char* status_name(StreamStatus s);
std::optional<StreamStatus> parse_status(std::string_view s);

struct StreamRow {
  std::string id;
  std::int64_t user_id = 0;
  std::string name;
  std::string title;
  std::string description;
  StreamStatus status = StreamStatus::created;
  std::string passphrase;
  std::optional<std::string> start_time;  // ISO 8601, when media first arrived
  std::optional<std::string> stopped_at;
  std::optional<std::string> status_reason;
  std::int64_t duration_seconds = 0;  // since start_time, until stopped_at or now
  std::string created_at;
  std::string updated_at;
  bool recording_requested = false;  // the recordings module has the segments
};

}  // namespace reelhub::streams
