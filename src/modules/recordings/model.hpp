#pragma once
// What the recordings module stores: one recording (VOD) per stopped live stream.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace reelhub::recordings {

struct Recording {
  std::string id;         // uuid
  std::string stream_id;  // uuid, the public key of a recording in the API
  std::int64_t user_id = 0;
  std::string username;
  std::string title;
  std::string status;  // processing | ready | failed
  std::optional<std::string> failure_reason;
  std::optional<double> duration_seconds;
  std::optional<std::int64_t> file_size_bytes;
  bool has_thumbnail = false;
  std::string created_at;  // ISO 8601 Z
  std::string updated_at;
};


struct RecordingPage {
  std::vector<Recording> recordings{};
  std::int64_t total = 0;
  std::int64_t limit = 0;
  std::int64_t offset = 0;
};

}  // namespace reelhub::recordings
