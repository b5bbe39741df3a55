#include "repo.hpp"

#include "modules/kit/text.hpp"
#include "reelhub/core/time.hpp"
#include "reelhub/db/statements.hpp"

namespace reelhub::rooms::repo {
namespace {

const db::Statement kInsertRoom{"rooms.insert_room", R"sql(
WITH room AS (
  INSERT INTO rooms (host_id, title, is_private, media_kind, media_id, media_title)
  VALUES ($1, $2, $3, $4, $5::uuid, $6) RETURNING id, host_id
), host AS (
  INSERT INTO room_participants (room_id, user_id, seat) SELECT id, host_id, 'host' FROM room
)
SELECT id::text FROM room
)sql"};

const db::Statement kDeleteRoom{"rooms.delete_room", "DELETE FROM rooms WHERE id = $1::uuid"};

const db::Statement kLockRoom{"rooms.lock_room",
                              "SELECT host_id, is_private, title FROM rooms WHERE id = $1::uuid FOR UPDATE"};
const db::Statement kRoomKey{"rooms.room_key", "SELECT host_id, is_private, title FROM rooms WHERE id = $1::uuid"};

const db::Statement kStanding{"rooms.standing", R"sql(
SELECT (SELECT seat FROM room_participants WHERE room_id = $1::uuid AND user_id = $2),
       EXISTS (SELECT 1 FROM room_invites WHERE room_id = $1::uuid AND user_id = $2),
       EXISTS (SELECT 1 FROM room_kicks WHERE room_id = $1::uuid AND user_id = $2),
       COALESCE((SELECT can_control FROM room_participants WHERE room_id = $1::uuid AND user_id = $2), false)
)sql"};

const db::Statement kCappedSeats{
    "rooms.capped_seats", "SELECT count(*) FROM room_participants WHERE room_id = $1::uuid AND seat <> 'subscriber'"};

const db::Statement kInsertParticipant{
    "rooms.insert_participant", "INSERT INTO room_participants (room_id, user_id, seat) VALUES ($1::uuid, $2, $3)"};
const db::Statement kDeleteParticipant{"rooms.delete_participant",
                                       "DELETE FROM room_participants WHERE room_id = $1::uuid AND user_id = $2"};

const db::Statement kKick{"rooms.kick", R"sql(
WITH gone AS (DELETE FROM room_participants WHERE room_id = $1::uuid AND user_id = $2),
     uninvited AS (DELETE FROM room_invites WHERE room_id = $1::uuid AND user_id = $2)
INSERT INTO room_kicks (room_id, user_id) VALUES ($1::uuid, $2) ON CONFLICT DO NOTHING
)sql"};

const db::Statement kInsertInvite{"rooms.insert_invite", R"sql(
INSERT INTO room_invites (room_id, user_id, invited_by) VALUES ($1::uuid, $2, $3) ON CONFLICT DO NOTHING RETURNING 1
)sql"};

const std::string kRoomColumns = R"sql(
r.id::text, r.host_id, r.title, r.is_private, r.media_kind, r.media_id::text, r.media_title, r.playback_state,
r.playback_position, r.playback_rate, trunc(extract(epoch FROM r.playback_updated_at) * 1000000)::bigint AS playback_us,
r.slow_mode_seconds, r.created_at,
(SELECT count(*) FROM room_participants p WHERE p.room_id = r.id) AS participant_count,
trunc(extract(epoch FROM r.created_at) * 1000000)::bigint AS created_us)sql";

const db::Statement kLockPlayback{"rooms.lock_playback", R"sql(
SELECT playback_state, playback_position, playback_rate, trunc(extract(epoch FROM playback_updated_at) * 1000000)::bigint
FROM rooms WHERE id = $1::uuid FOR UPDATE)sql"};
const db::Statement kSavePlayback{"rooms.save_playback", R"sql(
UPDATE rooms SET playback_state = $2, playback_position = $3, playback_rate = $4,
                 playback_updated_at = to_timestamp($5::bigint / 1000000.0)
WHERE id = $1::uuid)sql"};

Playback playback_of(const std::string& state, double position, double rate, std::int64_t micros) {
  return Playback{.playing = state == "playing",
                  .position = position,
                  .rate = rate,
                  .updated_at = std::chrono::system_clock::time_point(std::chrono::microseconds(micros))};
}

const db::Statement kChatGate{"rooms.chat_gate", R"sql(
SELECT p.seat, r.slow_mode_seconds, extract(epoch FROM clock_timestamp() - p.last_message_at)::float8
FROM rooms r LEFT JOIN room_participants p ON p.room_id = r.id AND p.user_id = $2
WHERE r.id = $1::uuid)sql"};

const std::string kMessageColumns =
    "id::text, user_id, body, created_at, trunc(extract(epoch FROM created_at) * 1000000)::bigint";

const db::Statement kInsertMessage{"rooms.insert_message", R"sql(
WITH m AS (
  INSERT INTO room_messages (room_id, user_id, body) VALUES ($1::uuid, $2, $3)
  RETURNING id, user_id, body, created_at
), seat AS (
  UPDATE room_participants SET last_message_at = (SELECT created_at FROM m) WHERE room_id = $1::uuid AND user_id = $2
)
SELECT )sql" + kMessageColumns + " FROM m"};

const db::Statement kSetControl{"rooms.set_control",
                                "UPDATE room_participants SET can_control = $3 WHERE room_id = $1::uuid AND user_id = $2"};

const db::Statement kDeleteMessage{"rooms.delete_message",
                                   "DELETE FROM room_messages WHERE room_id = $1::uuid AND id = $2::uuid"};
const db::Statement kSetSlowMode{"rooms.set_slow_mode", "UPDATE rooms SET slow_mode_seconds = $2 WHERE id = $1::uuid"};
const db::Statement kMessages{"rooms.messages", "SELECT " + kMessageColumns + R"sql( FROM room_messages
WHERE room_id = $1::uuid
  AND ($2::bigint IS NULL OR (trunc(extract(epoch FROM created_at) * 1000000)::bigint, id) < ($2, $3::uuid))
ORDER BY created_at DESC, id DESC LIMIT $4)sql"};

RoomMessage message_row(const pqxx::row& r) {
  RoomMessage m{.id = r[0].as<std::string>(),
                .user_id = r[1].as<std::int64_t>(),
                .username = {},
                .text = r[2].as<std::string>(),
                .created_at = iso8601_from_pg(r[3].as<std::string>()),
                .position = {}};
  m.position = r[4].as<std::string>() + "_" + m.id;
  return m;
}

const db::Statement kFindRoom{"rooms.find_room", "SELECT " + kRoomColumns + " FROM rooms r WHERE r.id = $1::uuid"};

const db::Statement kParticipants{"rooms.participants", R"sql(
SELECT user_id, seat, joined_at, can_control FROM room_participants WHERE room_id = $1::uuid ORDER BY joined_at, user_id
)sql"};

// $1 viewer (NULL: anonymous), $2/$3 media kind and id, $4 LIKE pattern, $5/$6 keyset position, $7 limit.
const db::Statement kListRooms{"rooms.list_rooms", "SELECT " + kRoomColumns + R"sql( FROM rooms r
WHERE (NOT r.is_private
       OR EXISTS (SELECT 1 FROM room_participants p WHERE p.room_id = r.id AND p.user_id = $1)
       OR EXISTS (SELECT 1 FROM room_invites i WHERE i.room_id = r.id AND i.user_id = $1))
  AND ($2::text IS NULL OR (r.media_kind = $2 AND r.media_id = $3::uuid))
  AND ($4::text IS NULL OR r.title ILIKE $4)
  AND ($5::bigint IS NULL OR (trunc(extract(epoch FROM r.created_at) * 1000000)::bigint, r.id) < ($5, $6::uuid))
ORDER BY r.created_at DESC, r.id DESC LIMIT $7)sql"};

std::optional<RoomKey> key_of(const pqxx::result& result) {
  if (result.empty()) return std::nullopt;
  return RoomKey{.host_id = result[0][0].as<std::int64_t>(),
                 .is_private = result[0][1].as<bool>(),
                 .title = result[0][2].as<std::string>()};
}

Room room_row(const pqxx::row& r) {
  Room room;
  room.id = r["id"].as<std::string>();
  room.host_id = r["host_id"].as<std::int64_t>();
  room.title = r["title"].as<std::string>();
  room.is_private = r["is_private"].as<bool>();
  room.media = Media{.kind = parse_media_kind(r["media_kind"].as<std::string>()).value(),  // CHECK admits no other
                     .id = r["media_id"].as<std::string>(),
                     .title = r["media_title"].as<std::string>()};
  room.playback = playback_of(r["playback_state"].as<std::string>(), r["playback_position"].as<double>(),
                              r["playback_rate"].as<double>(), r["playback_us"].as<std::int64_t>());
  room.slow_mode_seconds = r["slow_mode_seconds"].as<int>();
  room.participant_count = r["participant_count"].as<std::int64_t>();
  room.created_at = iso8601_from_pg(r["created_at"].as<std::string>());
  room.position = r["created_us"].as<std::string>() + "_" + room.id;
  return room;
}

}  // namespace

std::string insert_room(pqxx::work& tx, const NewRoomRow& room) {
  return tx
      .exec_prepared1(kInsertRoom.name(), room.host_id, room.title, room.is_private, media_kind_name(room.media.kind),
                      room.media.id, room.media.title)[0]
      .as<std::string>();
}

bool delete_room(pqxx::work& tx, const std::string& room_id) {
  return tx.exec_prepared0(kDeleteRoom.name(), room_id).affected_rows() > 0;
}

std::optional<RoomKey> lock_room(pqxx::work& tx, const std::string& room_id) {
  return key_of(tx.exec_prepared(kLockRoom.name(), room_id));
}

std::optional<RoomKey> room_key(pqxx::work& tx, const std::string& room_id) {
  return key_of(tx.exec_prepared(kRoomKey.name(), room_id));
}

Standing standing(pqxx::work& tx, const std::string& room_id, std::int64_t user_id) {
  const auto row = tx.exec_prepared1(kStanding.name(), room_id, user_id);
  std::optional<Seat> seat;
  if (!row[0].is_null()) seat = parse_seat(row[0].as<std::string>()).value();  // CHECK admits no other
  return Standing{
      .seat = seat, .invited = row[1].as<bool>(), .kicked = row[2].as<bool>(), .can_control = row[3].as<bool>()};
}

std::int64_t capped_seats(pqxx::work& tx, const std::string& room_id) {
  return tx.exec_prepared1(kCappedSeats.name(), room_id)[0].as<std::int64_t>();
}

void insert_participant(pqxx::work& tx, const std::string& room_id, std::int64_t user_id, Seat seat) {
  tx.exec_prepared0(kInsertParticipant.name(), room_id, user_id, seat_name(seat));
}

void delete_participant(pqxx::work& tx, const std::string& room_id, std::int64_t user_id) {
  tx.exec_prepared0(kDeleteParticipant.name(), room_id, user_id);
}

void kick(pqxx::work& tx, const std::string& room_id, std::int64_t user_id) {
  tx.exec_prepared0(kKick.name(), room_id, user_id);
}

bool insert_invite(pqxx::work& tx, const std::string& room_id, std::int64_t user_id, std::int64_t invited_by) {
  return !tx.exec_prepared(kInsertInvite.name(), room_id, user_id, invited_by).empty();
}

std::optional<Playback> lock_playback(pqxx::work& tx, const std::string& room_id) {
  const auto result = tx.exec_prepared(kLockPlayback.name(), room_id);
  if (result.empty()) return std::nullopt;
  const auto r = result[0];
  return playback_of(r[0].as<std::string>(), r[1].as<double>(), r[2].as<double>(), r[3].as<std::int64_t>());
}

void save_playback(pqxx::work& tx, const std::string& room_id, const Playback& playback) {
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(playback.updated_at.time_since_epoch()).count();
  tx.exec_prepared0(kSavePlayback.name(), room_id, playback.playing ? "playing" : "paused", playback.position,
                    playback.rate, static_cast<std::int64_t>(micros));
}

ChatGate chat_gate(pqxx::work& tx, const std::string& room_id, std::int64_t user_id) {
  const auto r = tx.exec_prepared1(kChatGate.name(), room_id, user_id);
  ChatGate gate{.seat = std::nullopt, .slow_mode_seconds = r[1].as<int>(), .since_last = std::nullopt};
  if (!r[0].is_null()) gate.seat = parse_seat(r[0].as<std::string>()).value();  // CHECK admits no other
  if (!r[2].is_null()) gate.since_last = r[2].as<double>();
  return gate;
}

RoomMessage insert_message(pqxx::work& tx, const std::string& room_id, std::int64_t user_id, const std::string& text) {
  return message_row(tx.exec_prepared1(kInsertMessage.name(), room_id, user_id, text));
}

bool delete_message(pqxx::work& tx, const std::string& room_id, const std::string& message_id) {
  return tx.exec_prepared0(kDeleteMessage.name(), room_id, message_id).affected_rows() > 0;
}

bool set_control(pqxx::work& tx, const std::string& room_id, std::int64_t user_id, bool allowed) {
  return tx.exec_prepared0(kSetControl.name(), room_id, user_id, allowed).affected_rows() > 0;
}

void set_slow_mode(pqxx::work& tx, const std::string& room_id, int seconds) {
  tx.exec_prepared0(kSetSlowMode.name(), room_id, seconds);
}

std::vector<RoomMessage> messages(pqxx::work& tx, const std::string& room_id,
                                  const std::optional<std::int64_t>& after_micros,
                                  const std::optional<std::string>& after_id, std::int64_t limit) {
  std::vector<RoomMessage> out;
  for (const auto& r : tx.exec_prepared(kMessages.name(), room_id, after_micros, after_id, limit)) {
    out.push_back(message_row(r));
  }
  return out;
}

std::optional<Room> find_room(pqxx::work& tx, const std::string& room_id) {
  const auto result = tx.exec_prepared(kFindRoom.name(), room_id);
  if (result.empty()) return std::nullopt;
  return room_row(result[0]);
}

std::vector<Participant> participants(pqxx::work& tx, const std::string& room_id) {
  std::vector<Participant> out;
  for (const auto& r : tx.exec_prepared(kParticipants.name(), room_id)) {
    out.push_back(Participant{.id = r[0].as<std::int64_t>(),
                              .username = {},
                              .seat = parse_seat(r[1].as<std::string>()).value(),  // CHECK admits no other
                              .joined_at = iso8601_from_pg(r[2].as<std::string>()),
                              .can_control = r[3].as<bool>()});
  }
  return out;
}

std::vector<Room> list_rooms(pqxx::work& tx, const ListQuery& query) {
  std::optional<std::string> kind, media_id, pattern;
  if (query.playing) {
    kind = media_kind_name(query.playing->kind);
    media_id = query.playing->id;
  }
  if (query.search) pattern = "%" + modules::escape_like(*query.search) + "%";
  std::vector<Room> out;
  for (const auto& r : tx.exec_prepared(kListRooms.name(), query.viewer, kind, media_id, pattern, query.after_micros,
                                        query.after_id, query.limit)) {
    out.push_back(room_row(r));
  }
  return out;
}

}  // namespace reelhub::rooms::repo
