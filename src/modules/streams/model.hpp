#pragma once
// A live stream as the streams module stores it.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reelhub/media/live_channel.hpp"

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

/// A stream with what is known only at runtime (owner's name, live viewers).
struct StreamView {
  StreamRow row;
  std::string username;
  int viewer_count = 0;
  std::optional<std::string> srt_url;  // owner and admins only, once started
};

struct StreamsPage {
  std::vector<StreamView> streams;
  std::int64_t total = 0;
  int limit = 50;
  int offset = 0;
};

/// GET /stream/{id}/status: the seed fields plus what an operator needs to debug a publisher.
struct IngestStatus {
  StreamRow row;
  bool publisher_connected = false;
  std::size_t hls_files_count = 0;
  std::int64_t uptime_seconds = 0;  // of the current publisher
  int viewer_count = 0;
  std::optional<media::IngestStats> ingest;
};

}  // namespace reelhub::streams
