#include "model.hpp"

#include <algorithm>

namespace reelhub::rooms {

const char* media_kind_name(MediaKind kind) { return kind == MediaKind::video ? "video" : "recording"; }

std::optional<MediaKind> parse_media_kind(std::string_view name) {
  if (name == "video") return MediaKind::video;
  if (name == "recording") return MediaKind::recording;
  return std::nullopt;
}

const char* seat_name(Seat seat) {
  switch (seat) {
    case Seat::host: return "host";
    case Seat::subscriber: return "subscriber";
    case Seat::ordinary: return "ordinary";
  }
  return "ordinary";
}

std::optional<Seat> parse_seat(std::string_view name) {
  for (const Seat seat : {Seat::host, Seat::subscriber, Seat::ordinary}) {
    if (name == seat_name(seat)) return seat;
  }
  return std::nullopt;
}

const char* playback_action_name(PlaybackAction action) {
  switch (action) {
    case PlaybackAction::play:
      return "play";
    case PlaybackAction::pause:
      return "pause";
    case PlaybackAction::seek:
      return "seek";
    case PlaybackAction::rate:
      return "rate";
  }
  return "pause";
}

Playback Playback::at(std::chrono::system_clock::time_point now) const {
  Playback out = *this;
  if (playing && now > updated_at) {
    out.position = std::min(kMaxPosition, position + rate * std::chrono::duration<double>(now - updated_at).count());
  }
  out.updated_at = now;
  return out;
}

Playback apply(Playback current, const PlaybackControl& control) {
  switch (control.action) {
    case PlaybackAction::play:
      current.playing = true;
      break;
    case PlaybackAction::pause:
      current.playing = false;
      break;
    case PlaybackAction::seek:
      current.position = control.value;
      break;
    case PlaybackAction::rate:
      current.rate = control.value;
      break;
  }
  return current;
}

}  // namespace reelhub::rooms
