#pragma once
// What the rooms module stores: watch-together rooms, their participants (each with the seat the
// cap counts), invitations to private rooms, and the server-held playback state.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace reelhub::rooms {

/// What a room plays: an uploaded video (by its id) or a recording (by its stream id, the public id
/// of recordings).
enum class MediaKind { video, recording };
const char* media_kind_name(MediaKind kind);
std::optional<MediaKind> parse_media_kind(std::string_view name);

/// How a participant holds their place. The cap counts `host` and `ordinary` seats; subscribers of
/// the host's channel take `subscriber` seats, which are not counted. Decided when the user joins.
enum class Seat { host, subscriber, ordinary };
const char* seat_name(Seat seat);
std::optional<Seat> parse_seat(std::string_view name);

struct Media {
  MediaKind kind = MediaKind::video;
  std::string id;     // uuid
  std::string title;  // as it was when the room was made
};

/// Server-authoritative playback: `position` seconds at `updated_at` (server clock), advancing at
/// `rate` while playing.
struct Playback {
  static constexpr double kMinRate = 0.25, kMaxRate = 4;
  static constexpr double kMaxPosition = 1e7;  // seconds: beyond any video

  bool playing = false;
  double position = 0;
  double rate = 1;
  std::chrono::system_clock::time_point updated_at{};

  /// This state as of `now`: while playing, the position advanced by rate * elapsed; stamped `now`.
  Playback at(std::chrono::system_clock::time_point now) const;
};

/// A playback change a member with control sends over the WebSocket.
enum class PlaybackAction { play, pause, seek, rate };
const char* playback_action_name(PlaybackAction action);
struct PlaybackControl {
  PlaybackAction action = PlaybackAction::pause;
  double value = 0;  // seek: the position; rate: the rate
};
/// The state after `control`, from `current` already brought to the moment of the change
/// (Playback::at); the result keeps that stamp.
Playback apply(Playback current, const PlaybackControl& control);

struct Participant {
  std::int64_t id = 0;
  std::string username;
  Seat seat = Seat::ordinary;
  std::string joined_at;  // ISO 8601 Z
  bool can_control = false;  // the host granted them playback control (the host has it anyway)
};

struct Room {
  std::string id;  // uuid
  std::string title;
  bool is_private = false;
  std::int64_t host_id = 0;
  std::string host_username;
  Media media;
  Playback playback;
  int slow_mode_seconds = 0;
  std::int64_t participant_count = 0;
  std::vector<Participant> participants;  // the detail only; in join order
  std::string created_at;                 // ISO 8601 Z
  std::string position;                   // keyset position in the list, the next page's cursor
};

/// A room chat message.
struct RoomMessage {
  std::string id;  // uuid
  std::int64_t user_id = 0;
  std::string username;
  std::string text;
  std::string created_at;  // ISO 8601 Z
  std::string position;    // keyset position in the history, the next page's cursor
};

/// History, newest first.
struct MessagePage {
  std::vector<RoomMessage> messages{};
  std::optional<std::string> next_cursor{};
};

struct RoomPage {
  std::vector<Room> rooms{};
  std::optional<std::string> next_cursor{};
};

}  // namespace reelhub::rooms
