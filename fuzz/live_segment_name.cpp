// The file name of a live HLS segment request (GET /live/{id}/{file}) and of files found on disk:
// media::segment_number is the one parser of "segment_<n>.ts".
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "check.hpp"
#include "reelhub/media/live_playlist.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using reelhub::fuzz::require;
  const std::string_view name(reinterpret_cast<const char*>(data), size);
  const auto n = reelhub::media::segment_number(name);
  if (n) {
    require(*n >= 0, "segment numbers are not negative");
    // Leading zeros parse too, so the round trip compares numbers, not names.
    require(reelhub::media::segment_number(reelhub::media::segment_file_name(static_cast<std::uint64_t>(*n))) == n,
            "segment_file_name(n) parses back to n");
  }
  return 0;
}
