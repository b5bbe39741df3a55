#include "reelhub/media/stream_id.hpp"

namespace reelhub::media {
namespace {

ParsedStreamId fail(StreamIdError e) { return {std::nullopt, e}; }

}  // namespace

ParsedStreamId parse_stream_id(std::string_view s) {
  if (s.empty()) return fail(StreamIdError::empty);
  constexpr std::string_view kAccessControl = "#!::";
  if (!s.starts_with(kAccessControl)) {
    if (s.find_first_of(",=#") != std::string_view::npos) return fail(StreamIdError::malformed);
    return {PublishTarget{std::string(s)}, std::nullopt};
  }
  s.remove_prefix(kAccessControl.size());
  std::optional<std::string> resource;
  bool publish = false;
  while (!s.empty()) {
    const auto comma = s.find(',');
    const std::string_view pair = s.substr(0, comma);
    s = comma == std::string_view::npos ? std::string_view{} : s.substr(comma + 1);
    const auto eq = pair.find('=');
    if (eq == std::string_view::npos || eq == 0) return fail(StreamIdError::malformed);
    const std::string_view key = pair.substr(0, eq);
    const std::string_view value = pair.substr(eq + 1);
    if (key == "r") {
      resource = std::string(value);
    } else if (key == "m") {
      if (value != "publish") return fail(StreamIdError::not_publish);
      publish = true;
    } else if (key != "u" && key != "s" && key != "t" && key != "h") {
      // u (user), s (session), t (type), h (host) are informational in the spec; anything else is not ours.
      return fail(StreamIdError::unsupported_key);
    }
  }
  if (!resource || resource->empty()) return fail(StreamIdError::malformed);
  // The SRT spec's default mode is "request" (play); a publisher must say m=publish.
  if (!publish) return fail(StreamIdError::not_publish);
  return {PublishTarget{std::move(*resource)}, std::nullopt};
}

}  // namespace reelhub::media
