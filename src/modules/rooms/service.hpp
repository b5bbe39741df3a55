#pragma once
// Rules of the rooms module (watch-together rooms, REST part): who may create, see, join, leave,
// kick from, invite to and delete which room, the participant cap, and what is published on the
// hub's `room:<id>` topics.

#include <cstdint>
#include <optional>
#include <string>

#include "heartbeats.hpp"
#include "model.hpp"
#include "modules/notifications/service.hpp"
#include "modules/recordings/service.hpp"
#include "modules/users/accounts.hpp"
#include "modules/videos/service.hpp"
#include "reelhub/auth/identity.hpp"
#include "reelhub/db/pool.hpp"
#include "reelhub/ws/hub.hpp"

namespace reelhub::rooms {

struct NewRoom {
  MediaKind kind = MediaKind::video;
  std::string media_id;  // as the client sent it
  std::optional<std::string> title{};
  bool is_private = false;
};

struct ListRequest {
  std::optional<MediaKind> playing_kind{};  // with playing_id: only rooms playing that video or recording
  std::optional<std::string> playing_id{};
  std::optional<std::string> search{};  // part of the title, case-insensitive
  std::optional<std::string> cursor{};
  std::int64_t limit = 50;
};

/// A join's answer: the room, and the newest page of its chat.
struct Joined {
  Room room;
  MessagePage history;
};

/// An invitation as its sender sees it: `created` is false when it was pending already.
struct Invited {
  std::string room_id;
  std::int64_t user_id = 0;
  bool created = false;
};

/// The room rules (docs/architecture.md "Rooms" states them for clients):
/// - A room plays one ready uploaded video or one ready recording; its creator is its host and its
///   first participant. A room lives while its host is in it: the host leaving, or a delete by the
///   host or an admin, closes it (`room.closed` on `room:<id>`) and it is gone (404).
/// - Cap: at most kMaxCappedSeats participants who are not subscribers of the host's channel, the
///   host included; the host's subscribers may always join. Whether a joiner is a subscriber is
///   decided when they join and kept with their seat. The check and the insert happen under the
///   room row's lock, so concurrent joins cannot overfill it. An invitation does not bypass the cap.
/// - Private rooms exist only for their participants and invitees (404 to everyone else; admins may
///   still see and delete them). Only the host invites; a user who blocked the host cannot be invited.
/// - Room chat is for participants; the host sets a slow mode (seconds between two messages of one
///   member; the host is exempt) and deletes messages.
/// - Playback is the host's to control (play, pause, seek, rate over the WebSocket), and of the
///   participants the host grants it; the server holds the state and stamps each change with its
///   own clock.
/// - The host kicks; a kicked user cannot join that room again (403) nor be invited to it.
class RoomService {
 public:
  static constexpr std::int64_t kMaxCappedSeats = 10;  // host and ordinary participants
  static constexpr std::size_t kMaxTitle = 100;        // code points
  static constexpr std::size_t kMaxMessage = 500;      // code points of a room chat message
  static constexpr int kMaxSlowMode = 3600;            // seconds
  static constexpr std::int64_t kHistoryPage = 50;     // messages a join returns

  RoomService(db::Pool& db, ws::Hub& hub, notifications::NotificationService& notifications,
              videos::VideoService& videos, recordings::RecordingService& recordings,
              std::chrono::milliseconds heartbeat);

  /// 422 when the video or recording is unknown to the caller or the title is invalid, 409 when
  /// the video or recording is not ready yet. The title defaults to the video's or recording's.
  Room create(const auth::AuthUser& caller, const NewRoom& request);
  /// Newest first. 422 for a bad cursor or filter id.
  RoomPage list(const std::optional<auth::AuthUser>& caller, const ListRequest& request);
  /// With participants, playback state and slow mode. 404 unknown, or private and not the caller's.
  Room get(const std::optional<auth::AuthUser>& caller, const std::string& room_id);
  /// Takes a seat and publishes `participant.joined`; a participant joining again changes nothing.
  /// 404 unknown (or private without an invitation), 403 kicked, 409 full.
  Joined join(const auth::AuthUser& caller, const std::string& room_id);
  /// Gives up the caller's seat (`participant.left`); the host leaving closes the room. 403 when the
  /// caller is not in the room.
  void leave(const auth::AuthUser& caller, const std::string& room_id);
  /// The user's socket left `room:<id>` and did not come back within the grace period: as leave()
  /// (`participant.left` with reason `disconnected`); the host's closes the room (`host_disconnected`).
  /// Nothing when they are not in the room (any more).
  void departed(std::int64_t user_id, const std::string& room_id);
  /// Host only (403): removes `user_id` for good and publishes `participant.kicked`, after which
  /// their sockets get nothing more of the room. 404 when the user is not in the room, 409 the host.
  void kick(const auth::AuthUser& caller, const std::string& room_id, std::int64_t user_id);
  /// Host only (403): lets `user_id` see and join the room and sends them a `room_invite`
  /// notification (not again while the invitation is pending). 422 unknown user or the caller, 403
  /// when the user blocked the host, 409 already in the room or kicked from it.
  Invited invite(const auth::AuthUser& caller, const std::string& room_id, std::int64_t user_id);
  /// Host or admin (403): closes the room.
  void remove(const auth::AuthUser& caller, const std::string& room_id);
  /// Host only (403): lets `user_id` control playback too, or no longer (`participant.control`
  /// {room_id, user_id, can_control}). 404 when they are not in the room; 409 for the host.
  void grant_control(const auth::AuthUser& caller, const std::string& room_id, std::int64_t user_id, bool allowed);
  /// A playback change by the host or a participant they granted control (403 for anyone else in the room, 404 when the room is unknown
  /// or the caller is not in it), stamped with the server's clock and published as `playback` on
  /// `room:<id>`; repeated every heartbeat while playing. Returns the new state.
  Playback control(const auth::AuthUser& caller, const std::string& room_id, const PlaybackControl& control);
  /// Room chat (participants only; 404 otherwise). Publishes `message.created`. 422 for an empty,
  /// too long or control-character text; 429 with the seconds left while the sender's slow mode
  /// runs (the host is exempt).
  RoomMessage send_message(const auth::AuthUser& caller, const std::string& room_id, const std::string& text);
  /// Newest first, kHistoryPage by default; 422 for a bad cursor. Participants only (404).
  MessagePage history(const auth::AuthUser& caller, const std::string& room_id, const std::optional<std::string>& cursor,
                      std::int64_t limit);
  /// Host only (403): removes a message (`message.deleted`); 404 when the room has no such message.
  void delete_message(const auth::AuthUser& caller, const std::string& room_id, const std::string& message_id);
  /// Host only (403): seconds each member waits between two messages, 0 … kMaxSlowMode
  /// (`room.slow_mode`). Returns them.
  int set_slow_mode(const auth::AuthUser& caller, const std::string& room_id, int seconds);
  /// The hub's access check for `room:<id>`: participants only.
  bool may_subscribe(const auth::AuthUser& user, const std::string& room_id);

 private:
  /// The ready video or recording the caller may see; 422 unknown, 409 not ready.
  Media playable(const auth::AuthUser& caller, MediaKind kind, const std::string& media_id);
  /// The room as `viewer` may see it, with host name and participants; 404 otherwise.
  Room visible_room(const std::optional<auth::AuthUser>& viewer, const std::string& room_id);
  /// Publishes `playback` to the room's topic: the state, and what made it (an action, or a heartbeat).
  void announce_playback(const std::string& room_id, const Playback& playback, const char* cause);
  /// Locks the room and checks the caller is its host: 404 unknown or not in it, 403 not the host.
  static void require_host(pqxx::work& tx, const std::string& room_id, const auth::AuthUser& caller, const char* what);
  /// The page's authors' usernames, filled in.
  MessagePage with_usernames(std::vector<RoomMessage> messages, std::int64_t limit);
  /// Gives up the seat of `user_id` (locked room, seat known): closes the room when it is the host's.
  /// Returns true when the room closed.
  static bool give_up_seat(pqxx::work& tx, const std::string& room_id, std::int64_t user_id, Seat seat);
  /// Tells the room that `user_id` left (`participant.left`), or that it closed.
  void announce_left(const std::string& room_id, std::int64_t user_id, bool closed, const char* reason);
  /// Publishes `room.closed` to the room's topic.
  void announce_closed(const std::string& room_id, const char* reason);

  db::Pool& db_;
  ws::Hub& hub_;
  notifications::NotificationService& notifications_;
  videos::VideoService& videos_;
  recordings::RecordingService& recordings_;
  users::Accounts accounts_;
  Heartbeats heartbeats_;  // last: its thread publishes through the members above
};

}  // namespace reelhub::rooms
