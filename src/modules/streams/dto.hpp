#pragma once
// JSON of the streams endpoints, in the seed 002 shapes.

#include <nlohmann/json.hpp>

#include "model.hpp"

namespace reelhub::streams {

/// GET /api/streams/{id} and list items: the seed fields plus hls_url (MPEG-TS HLS), hls_ll_url
/// (Low-Latency HLS, fMP4), and srt_url for the owner.
nlohmann::json stream_json(const StreamView& view, std::uint16_t srt_port);
nlohmann::json streams_page_json(const StreamsPage& page, std::uint16_t srt_port);
nlohmann::json status_json(const IngestStatus& status);
std::string hls_url(const std::string& stream_id);
std::string hls_ll_url(const std::string& stream_id);

}  // namespace reelhub::streams
