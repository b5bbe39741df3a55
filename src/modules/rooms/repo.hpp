#pragma once
// SQL of the rooms module. Only this module reads or writes rooms, room_participants, room_invites
// and room_kicks. Room ids arrive here already validated as UUIDs.

#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "model.hpp"

namespace reelhub::rooms::repo {

struct NewRoomRow {
  std::int64_t host_id = 0;
  std::string title;
  bool is_private = false;
  Media media;
};

/// Inserts the room with its host as the first participant (seat `host`); returns its id.
std::string insert_room(pqxx::work& tx, const NewRoomRow& room);
/// Deletes the room with its participants, invitations and kicks; false when it did not exist.
bool delete_room(pqxx::work& tx, const std::string& room_id);

/// The parts of a room that never change.
struct RoomKey {
  std::int64_t host_id = 0;
  bool is_private = false;
  std::string title;
};
/// Locks the room row until the transaction ends (SELECT ... FOR UPDATE): joins, leaves, kicks,
/// invitations and deletes of one room take turns, so a join's cap check and its insert see the
/// same seats. Read what the lock protects in a later statement: this one's snapshot predates the
/// wait. Nullopt when the room does not exist (or was deleted while waiting).
std::optional<RoomKey> lock_room(pqxx::work& tx, const std::string& room_id);
/// The same without a lock.
std::optional<RoomKey> room_key(pqxx::work& tx, const std::string& room_id);

/// Where a user stands with a room.
struct Standing {
  std::optional<Seat> seat;  // nullopt: not a participant
  bool invited = false;
  bool kicked = false;
  bool can_control = false;  // granted playback control
};
Standing standing(pqxx::work& tx, const std::string& room_id, std::int64_t user_id);

/// Participants whose seat the cap counts (the host and ordinary ones).
std::int64_t capped_seats(pqxx::work& tx, const std::string& room_id);
void insert_participant(pqxx::work& tx, const std::string& room_id, std::int64_t user_id, Seat seat);
void delete_participant(pqxx::work& tx, const std::string& room_id, std::int64_t user_id);
/// Removes the user from the room and their invitation, and keeps them out of it for good.
void kick(pqxx::work& tx, const std::string& room_id, std::int64_t user_id);
/// True when the invitation is new (a pending one is kept as it is).
bool insert_invite(pqxx::work& tx, const std::string& room_id, std::int64_t user_id, std::int64_t invited_by);

/// The room's playback state, the room row locked (see lock_room); nullopt when the room is gone.
std::optional<Playback> lock_playback(pqxx::work& tx, const std::string& room_id);
void save_playback(pqxx::work& tx, const std::string& room_id, const Playback& playback);

/// What a chat message needs to know, read after lock_room: the sender's seat (nullopt: not in the
/// room), the room's slow mode and the seconds since the sender's last message (nullopt: none).
struct ChatGate {
  std::optional<Seat> seat;
  int slow_mode_seconds = 0;
  std::optional<double> since_last;
};
ChatGate chat_gate(pqxx::work& tx, const std::string& room_id, std::int64_t user_id);
/// Stores the message and notes the time in the sender's seat (slow mode).
RoomMessage insert_message(pqxx::work& tx, const std::string& room_id, std::int64_t user_id, const std::string& text);
/// False when the room has no such message.
bool delete_message(pqxx::work& tx, const std::string& room_id, const std::string& message_id);
void set_slow_mode(pqxx::work& tx, const std::string& room_id, int seconds);
/// Grants or withdraws a participant's playback control; false when they are not in the room.
bool set_control(pqxx::work& tx, const std::string& room_id, std::int64_t user_id, bool allowed);
/// Newest first, after the keyset position when given (usernames not filled in).
std::vector<RoomMessage> messages(pqxx::work& tx, const std::string& room_id,
                                  const std::optional<std::int64_t>& after_micros,
                                  const std::optional<std::string>& after_id, std::int64_t limit);

/// The room with its participant count (host username and participants not filled in).
std::optional<Room> find_room(pqxx::work& tx, const std::string& room_id);
/// Participants in join order (usernames not filled in).
std::vector<Participant> participants(pqxx::work& tx, const std::string& room_id);

/// GET /api/rooms: rooms newest first that `viewer` may see (public ones, and private ones they are
/// in or invited to), optionally only those playing `media`, whose title contains `search`.
struct ListQuery {
  std::optional<std::int64_t> viewer{};
  std::optional<Media> playing{};  // kind and id; the title is ignored
  std::optional<std::string> search{};
  std::optional<std::int64_t> after_micros{};  // keyset position of the previous page's last room
  std::optional<std::string> after_id{};
  std::int64_t limit = 50;
};
std::vector<Room> list_rooms(pqxx::work& tx, const ListQuery& query);

}  // namespace reelhub::rooms::repo
