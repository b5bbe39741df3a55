#include "model.hpp"

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

}  // namespace reelhub::rooms
