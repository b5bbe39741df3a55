#pragma once
// Live-stream test helpers: streams over the API, an ffmpeg SRT publisher (the OBS stand-in),
// and a parsed HLS media playlist.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "child_process.hpp"
#include "http_client.hpp"
#include "system.hpp"
#include "users.hpp"

namespace reelhub::testing {

/// Server settings for live tests: short segments and timeouts so a test takes seconds, and
/// SRT on loopback IPv4 (ffmpeg may resolve "localhost" to ::1).
std::map<std::string, std::string> live_env(std::map<std::string, std::string> extra = {});

struct StartedStream {
  std::string id;
  std::string srt_url;
  std::string hls_url;
};
/// POST /api/streams then /start as `owner` (a streamer); fails the test on any other answer.
StartedStream create_and_start(const HttpClient& http, const TestUser& owner);

/// Polls GET /api/streams/{id} until its status is `status`; returns the last body.
nlohmann::json wait_for_status(const HttpClient& http, const TestUser& user, const std::string& id,
                               const std::string& status, std::chrono::milliseconds within = std::chrono::seconds(20));

/// `ffmpeg -re` publishing a test pattern with a tone (H.264 + AAC in MPEG-TS, 1 s GOP) to `url`.
class Publisher {
 public:
  Publisher(const std::string& url, int seconds, const std::string& size = "320x240");
  /// Any ffmpeg command line publishing to SRT (garbage, a wrong codec, ...).
  explicit Publisher(std::vector<std::string> argv);
  ChildProcess& process() { return *process_; }
  std::string output() const { return process_->output(); }

 private:
  TempDir dir_;
  std::unique_ptr<ChildProcess> process_;
};

struct PlaylistEntry {
  std::uint64_t sequence = 0;
  double duration = 0;
  std::string program_date_time;
  bool discontinuity = false;
  std::string uri;
};
struct MediaPlaylist {
  int target_duration = 0;
  std::uint64_t media_sequence = 0;
  bool ended = false;
  std::vector<PlaylistEntry> segments;
};
MediaPlaylist parse_media_playlist(const std::string& text);

/// GET the live playlist until it lists at least `segments` segments (or throws).
MediaPlaylist wait_for_segments(const HttpClient& http, const std::string& hls_url, std::size_t segments,
                                std::chrono::milliseconds within = std::chrono::seconds(30));

/// Polls GET /api/v1/recordings/{stream_id} until it is no longer `processing`; returns it.
nlohmann::json wait_for_recording(const HttpClient& http, const std::string& stream_id,
                                  std::chrono::milliseconds within = std::chrono::seconds(60));

/// Runs ffprobe with `args` and parses its JSON output (-of json is added).
nlohmann::json ffprobe(std::vector<std::string> args);

}  // namespace reelhub::testing
