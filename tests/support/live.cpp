#include "live.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <stdexcept>
#include <thread>

#include "stack.hpp"

namespace reelhub::testing {

std::map<std::string, std::string> live_env(std::map<std::string, std::string> extra) {
  auto env = relaxed_rate_limits();
  env["REELHUB_PUBLIC_HOST"] = "127.0.0.1";
  env["REELHUB_SRT_HOST"] = "127.0.0.1";
  env["REELHUB_LIVE_SEGMENT_MS"] = "2000";
  env["REELHUB_LIVE_WINDOW_SEGMENTS"] = "3";
  env["REELHUB_LIVE_STALL_SECONDS"] = "2";
  for (auto& [k, v] : extra) env[k] = v;
  return env;
}

StartedStream create_and_start(const HttpClient& http, const TestUser& owner) {
  const HttpResponse created =
      http.post_json("/api/streams", {{"name", "Test stream"}, {"title", "Live test"}}, owner.auth());
  if (created.status != 201) throw std::runtime_error("create stream: " + created.body);
  const std::string id = created.json().at("stream_id");
  const HttpResponse started = http.post_json("/api/streams/" + id + "/start", nlohmann::json::object(), owner.auth());
  if (started.status != 200) throw std::runtime_error("start stream: " + started.body);
  const auto body = started.json();
  return {id, body.at("srt_url"), body.at("hls_url")};
}

nlohmann::json wait_for_status(const HttpClient& http, const TestUser& user, const std::string& id,
                               const std::string& status, std::chrono::milliseconds within) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  nlohmann::json last;
  while (std::chrono::steady_clock::now() < deadline) {
    const HttpResponse res = http.get("/api/streams/" + id, user.auth());
    if (res.status == 200) {
      last = res.json();
      if (last.at("status") == status) return last;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  throw std::runtime_error("stream " + id + " not " + status + " within " + std::to_string(within.count()) +
                           " ms; last: " + last.dump());
}

Publisher::Publisher(const std::string& url, int seconds, const std::string& size)
    : Publisher({"ffmpeg", "-hide_banner", "-loglevel", "warning", "-re",
                 "-f", "lavfi", "-i", "testsrc=size=" + size + ":rate=25",
                 "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
                 "-t", std::to_string(seconds),
                 "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-pix_fmt", "yuv420p", "-g", "25",
                 "-c:a", "aac", "-b:a", "64k", "-f", "mpegts", url + "&pkt_size=1316"}) {}

Publisher::Publisher(std::vector<std::string> argv) : dir_("reelhub-publisher") {
  process_ = std::make_unique<ChildProcess>(std::move(argv), dir_.path() / "ffmpeg.log");
}

MediaPlaylist parse_media_playlist(const std::string& text) {
  MediaPlaylist p;
  std::istringstream lines(text);
  PlaylistEntry next;
  std::uint64_t sequence = 0;
  bool sequence_known = false;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("#EXT-X-TARGETDURATION:", 0) == 0) {
      p.target_duration = std::stoi(line.substr(22));
    } else if (line.rfind("#EXT-X-MEDIA-SEQUENCE:", 0) == 0) {
      p.media_sequence = sequence = std::stoull(line.substr(22));
      sequence_known = true;
    } else if (line == "#EXT-X-DISCONTINUITY") {
      next.discontinuity = true;
    } else if (line.rfind("#EXT-X-PROGRAM-DATE-TIME:", 0) == 0) {
      next.program_date_time = line.substr(25);
    } else if (line.rfind("#EXTINF:", 0) == 0) {
      next.duration = std::stod(line.substr(8));
    } else if (line == "#EXT-X-ENDLIST") {
      p.ended = true;
    } else if (!line.empty() && line[0] != '#') {
      if (!sequence_known) throw std::runtime_error("playlist without EXT-X-MEDIA-SEQUENCE:\n" + text);
      next.uri = line;
      next.sequence = sequence++;
      p.segments.push_back(next);
      next = PlaylistEntry{};
    }
  }
  return p;
}

MediaPlaylist wait_for_segments(const HttpClient& http, const std::string& hls_url, std::size_t segments,
                                std::chrono::milliseconds within) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  std::string last;
  while (std::chrono::steady_clock::now() < deadline) {
    const HttpResponse res = http.get(hls_url);
    last = std::to_string(res.status) + " " + res.body;
    if (res.status == 200) {
      MediaPlaylist p = parse_media_playlist(res.body);
      if (p.segments.size() >= segments) return p;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  throw std::runtime_error("playlist " + hls_url + " did not list " + std::to_string(segments) +
                           " segments in time; last answer: " + last);
}

nlohmann::json wait_for_recording(const HttpClient& http, const std::string& stream_id,
                                  std::chrono::milliseconds within) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  std::string last;
  while (std::chrono::steady_clock::now() < deadline) {
    const HttpResponse res = http.get("/api/v1/recordings/" + stream_id);
    last = std::to_string(res.status) + " " + res.body;
    if (res.status == 200 && res.json().at("status") != "processing") return res.json();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  throw std::runtime_error("recording of " + stream_id + " still not done; last answer: " + last);
}

nlohmann::json ffprobe(std::vector<std::string> args) {
  std::vector<std::string> argv = {"ffprobe", "-v", "error", "-of", "json"};
  argv.insert(argv.end(), args.begin(), args.end());
  return nlohmann::json::parse(run_command(argv));
}

}  // namespace reelhub::testing
