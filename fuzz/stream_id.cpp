// The SRT streamid a caller sends in its handshake (media::parse_stream_id), before any secret
// is checked: the input is the streamid as libsrt hands it over.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "check.hpp"
#include "reelhub/media/stream_id.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using reelhub::fuzz::require;
  const std::string_view streamid(reinterpret_cast<const char*>(data), size);
  const auto parsed = reelhub::media::parse_stream_id(streamid);
  require(parsed.target.has_value() != parsed.error.has_value(), "exactly one of target and error");
  if (parsed.target) {
    require(!parsed.target->resource.empty(), "a target names a resource");
    require(streamid.find(parsed.target->resource) != std::string_view::npos, "the resource comes from the streamid");
  }
  return 0;
}
