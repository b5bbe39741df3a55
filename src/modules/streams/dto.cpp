#include "dto.hpp"

#include "reelhub/core/json.hpp"

namespace reelhub::streams {

std::string hls_url(const std::string& stream_id) { return "/hls/" + stream_id + "/stream.m3u8"; }
std::string hls_ll_url(const std::string& stream_id) { return "/hls/" + stream_id + "/ll.m3u8"; }

nlohmann::json stream_json(const StreamView& v, std::uint16_t srt_port) {
  const StreamRow& r = v.row;
  nlohmann::json j = {{"stream_id", r.id},
                      {"name", r.name},
                      {"title", r.title},
                      {"description", r.description},
                      {"status", status_name(r.status)},
                      {"user_id", r.user_id},
                      {"username", v.username},
                      {"port", srt_port},
                      {"start_time", nullable(r.start_time)},
                      {"viewer_count", v.viewer_count},
                      {"duration_seconds", r.duration_seconds},
                      {"hls_url", hls_url(r.id)},
                      {"hls_ll_url", hls_ll_url(r.id)},
                      {"created_at", r.created_at},
                      {"updated_at", r.updated_at}};
  if (r.status_reason) j["status_reason"] = *r.status_reason;
  if (v.srt_url) j["srt_url"] = *v.srt_url;
  return j;
}

nlohmann::json streams_page_json(const StreamsPage& page, std::uint16_t srt_port) {
  nlohmann::json items = nlohmann::json::array();
  for (const StreamView& v : page.streams) items.push_back(stream_json(v, srt_port));
  return {{"streams", items}, {"total", page.total}, {"limit", page.limit}, {"offset", page.offset}};
}

nlohmann::json status_json(const IngestStatus& s) {
  nlohmann::json j = {{"stream_id", s.row.id},
                      {"status", status_name(s.row.status)},
                      // Seed 002 name: there is no ffmpeg process here, the field means "a publisher is connected".
                      {"ffmpeg_running", s.publisher_connected},
                      {"hls_files_count", s.hls_files_count},
                      {"uptime_seconds", s.uptime_seconds},
                      {"viewer_count", s.viewer_count},
                      {"status_reason", nullable(s.row.status_reason)}};
  if (s.ingest) {
    const media::IngestStats& i = *s.ingest;
    j["ingest"] = {{"rtt_ms", i.rtt_ms},
                   {"receive_mbps", i.receive_mbps},
                   {"packets_received", i.packets_received},
                   {"packets_lost", i.packets_lost},
                   {"packets_retransmitted", i.packets_retransmitted},
                   {"packets_dropped", i.packets_dropped},
                   {"last_segment_seconds", i.last_segment_seconds},
                   {"segment_lag_ms", i.last_segment_lag_ms}};
  } else {
    j["ingest"] = nullptr;
  }
  return j;
}

}  // namespace reelhub::streams
