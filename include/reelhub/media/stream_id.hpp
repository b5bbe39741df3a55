#pragma once
// The SRT streamid a publisher sends, in the two forms OBS and ffmpeg users type:
// plain "<stream_id>" (seed 002) and the SRT access-control form "#!::r=<stream_id>,m=publish".

#include <optional>
#include <string>
#include <string_view>

namespace reelhub::media {

enum class StreamIdError { empty, malformed, unsupported_key, not_publish };

struct PublishTarget {
  std::string resource;  // the stream id the caller asked for (not yet validated as a UUID)
};

/// Parses a caller's streamid. Only publishing is accepted: `m=request` (playing over SRT) is
/// refused, as are keys Reelhub does not understand, so a typo never silently means something else.
struct ParsedStreamId {
  std::optional<PublishTarget> target;
  std::optional<StreamIdError> error;
};
ParsedStreamId parse_stream_id(std::string_view streamid);

}  // namespace reelhub::media
