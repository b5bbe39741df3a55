#include "service.hpp"

#include <cmath>
#include <utility>

#include "modules/kit/cursor.hpp"
#include "modules/kit/ids.hpp"
#include "modules/kit/text.hpp"
#include "reelhub/core/error.hpp"
#include "reelhub/core/validation.hpp"
#include "dto.hpp"
#include "repo.hpp"

namespace reelhub::rooms {
namespace {

[[noreturn]] void room_not_found() { throw ApiError(ErrorCode::not_found, "Room not found"); }

[[noreturn]] void invalid(const std::string& field, std::string message, std::string detail) {
  throw ApiError(ErrorCode::validation_failed, std::move(message), {{field, {std::move(detail)}}});
}

/// The room id of a path, canonical; anything but a UUID names no room.
std::string require_room_id(const std::string& id) { return modules::require_uuid(id, "Room not found"); }

std::string topic_of(const std::string& room_id) { return "room:" + room_id; }

const char* media_field(MediaKind kind) { return kind == MediaKind::video ? "video_id" : "recording_id"; }

/// Private rooms exist for their participants and invitees only, and for admins (who may close them).
bool may_see(bool is_private, const repo::Standing& standing, const auth::AuthUser& user) {
  return !is_private || standing.seat || standing.invited || user.role == auth::Role::admin;
}

/// Locks the room (see repo::lock_room) and returns it with the caller's standing; 404 when it does
/// not exist or the caller may not know of it.
std::pair<repo::RoomKey, repo::Standing> lock_visible(pqxx::work& tx, const std::string& room_id,
                                                      const auth::AuthUser& caller) {
  const auto key = repo::lock_room(tx, room_id);
  if (!key) room_not_found();
  auto standing = repo::standing(tx, room_id, caller.id);
  if (!may_see(key->is_private, standing, caller)) room_not_found();
  return {*key, standing};
}

void validate_title(const std::string& title) {
  if (!is_valid_utf8(title) || modules::has_control_characters(title, false)) {
    invalid("title", "Invalid title", "must not contain control characters");
  }
  if (modules::is_blank(title)) invalid("title", "Invalid title", "must not be empty");
  if (utf8_length(title) > RoomService::kMaxTitle) {
    invalid("title", "Invalid title", "must be at most " + std::to_string(RoomService::kMaxTitle) + " characters");
  }
}

[[noreturn]] void not_ready(const char* what, const std::string& status) {
  throw ApiError(ErrorCode::conflict, std::string("This ") + what + " cannot be watched yet: it is " + status);
}

}  // namespace

RoomService::RoomService(db::Pool& db, ws::Hub& hub, notifications::NotificationService& notifications,
                         videos::VideoService& videos, recordings::RecordingService& recordings,
                         std::chrono::milliseconds heartbeat)
    : db_(db),
      hub_(hub),
      notifications_(notifications),
      videos_(videos),
      recordings_(recordings),
      accounts_(db),
      heartbeats_(heartbeat, [this](const std::string& room_id, const Playback& playback, const char* cause) {
        announce_playback(room_id, playback, cause);
      }) {}

Media RoomService::playable(const auth::AuthUser& caller, MediaKind kind, const std::string& media_id) {
  try {
    if (kind == MediaKind::video) {
      const videos::Video video = videos_.get(caller, media_id);
      if (video.status != videos::VideoStatus::ready) not_ready("video", videos::video_status_name(video.status));
      return Media{.kind = kind, .id = video.id, .title = video.title};
    }
    const recordings::Recording recording = recordings_.get(media_id);
    if (recording.status != "ready") not_ready("recording", recording.status);
    return Media{.kind = kind, .id = recording.stream_id, .title = recording.title};
  } catch (const ApiError& e) {
    // What the caller may not see (or what is no UUID) is, to them, no video at all.
    if (e.code() != ErrorCode::not_found) throw;
    invalid(media_field(kind), kind == MediaKind::video ? "Unknown video" : "Unknown recording",
            kind == MediaKind::video ? "is no video you can watch" : "is no recording you can watch");
  }
}

Room RoomService::visible_room(const std::optional<auth::AuthUser>& viewer, const std::string& room_id) {
  const std::string id = require_room_id(room_id);
  Room room = db_.transact([&](pqxx::work& tx) {
    auto found = repo::find_room(tx, id);
    if (!found) room_not_found();
    if (found->is_private && !(viewer && may_see(true, repo::standing(tx, id, viewer->id), *viewer))) {
      room_not_found();
    }
    found->participants = repo::participants(tx, id);
    return std::move(*found);
  });
  // Late joiners get the position of this moment, not of the last change.
  room.playback = room.playback.at(std::chrono::system_clock::now());
  // Accounts borrows its own connection: outside the transaction above.
  accounts_.fill_usernames(room.participants, &Participant::id, &Participant::username);
  for (const auto& participant : room.participants) {
    if (participant.id == room.host_id) room.host_username = participant.username;
  }
  return room;
}

void RoomService::announce_playback(const std::string& room_id, const Playback& playback, const char* cause) {
  nlohmann::json data = playback_json(playback);
  data["room_id"] = room_id;
  data["cause"] = cause;
  hub_.publish(topic_of(room_id), "playback", data);
}

void RoomService::announce_closed(const std::string& room_id, const char* reason) {
  heartbeats_.forget(room_id);
  hub_.publish(topic_of(room_id), "room.closed", {{"room_id", room_id}, {"reason", reason}});
}

Room RoomService::create(const auth::AuthUser& caller, const NewRoom& request) {
  if (request.title) validate_title(*request.title);
  const Media media = playable(caller, request.kind, request.media_id);
  const std::string id = db_.transact([&](pqxx::work& tx) {
    return repo::insert_room(tx, {.host_id = caller.id,
                                  .title = request.title.value_or(modules::text_preview(media.title, kMaxTitle)),
                                  .is_private = request.is_private,
                                  .media = media});
  });
  return visible_room(caller, id);
}

RoomPage RoomService::list(const std::optional<auth::AuthUser>& caller, const ListRequest& request) {
  repo::ListQuery query{.limit = request.limit + 1};  // one more than asked tells whether a page follows
  if (caller) query.viewer = caller->id;
  if (request.playing_kind && request.playing_id) {
    auto id = canonical_uuid(*request.playing_id);
    if (!id) invalid(media_field(*request.playing_kind), "Invalid filter", "must be a UUID");
    query.playing = Media{.kind = *request.playing_kind, .id = std::move(*id), .title = {}};
  }
  if (request.search) {
    if (!is_valid_utf8(*request.search) || modules::has_control_characters(*request.search, false)) {
      invalid("q", "Invalid search", "must not contain control characters");
    }
    query.search = request.search;
  }
  if (request.cursor) {
    const auto position = modules::parse_keyset_cursor(*request.cursor);
    if (!position) invalid("cursor", "Invalid cursor", "is not a cursor of this list");
    query.after_micros = position->micros;
    query.after_id = position->id;
  }
  RoomPage page{.rooms = db_.transact([&](pqxx::work& tx) { return repo::list_rooms(tx, query); })};
  if (static_cast<std::int64_t>(page.rooms.size()) > request.limit) {
    page.rooms.pop_back();
    page.next_cursor = page.rooms.back().position;
  }
  accounts_.fill_usernames(page.rooms, &Room::host_id, &Room::host_username);
  return page;
}

Room RoomService::get(const std::optional<auth::AuthUser>& caller, const std::string& room_id) {
  return visible_room(caller, room_id);
}

Joined RoomService::join(const auth::AuthUser& caller, const std::string& room_id) {
  const std::string id = require_room_id(room_id);
  // The seat is decided before the room is locked: the subscription belongs to the users module,
  // whose Accounts borrows its own connection. The host never changes, so this read cannot go stale.
  const auto key = db_.transact([&](pqxx::work& tx) { return repo::room_key(tx, id); });
  if (!key) room_not_found();
  const Seat seat = accounts_.is_subscribed(caller.id, key->host_id) ? Seat::subscriber : Seat::ordinary;

  const bool created = db_.transact([&](pqxx::work& tx) {
    if (!repo::lock_room(tx, id)) room_not_found();
    // A later statement than the lock: it sees every seat taken by the joins that held it before.
    const repo::Standing standing = repo::standing(tx, id, caller.id);
    if (standing.seat) return false;
    if (standing.kicked) throw ApiError(ErrorCode::forbidden, "You were kicked from this room");
    if (!may_see(key->is_private, standing, caller)) room_not_found();
    if (seat == Seat::ordinary && repo::capped_seats(tx, id) >= kMaxCappedSeats) {
      throw ApiError(ErrorCode::conflict, "This room is full: it has " + std::to_string(kMaxCappedSeats) +
                                              " participants who are not subscribers of the host's channel "
                                              "(the host's subscribers may still join)");
    }
    repo::insert_participant(tx, id, caller.id, seat);
    return true;
  });
  if (created) {
    hub_.publish(topic_of(id), "participant.joined",
                 {{"room_id", id}, {"user_id", caller.id}, {"username", caller.username}, {"seat", seat_name(seat)}});
  }
  return Joined{.room = visible_room(caller, id), .history = history(caller, id, std::nullopt, kHistoryPage)};
}

void RoomService::leave(const auth::AuthUser& caller, const std::string& room_id) {
  const std::string id = require_room_id(room_id);
  const bool closed = db_.transact([&](pqxx::work& tx) {
    const auto [key, standing] = lock_visible(tx, id, caller);
    if (!standing.seat) throw ApiError(ErrorCode::forbidden, "You are not in this room");
    return give_up_seat(tx, id, caller.id, *standing.seat);
  });
  announce_left(id, caller.id, closed, closed ? "host_left" : "left");
}

void RoomService::departed(std::int64_t user_id, const std::string& room_id) {
  const auto id = canonical_uuid(room_id);
  if (!id) return;
  std::optional<bool> closed;  // nullopt: not in the room
  db_.transact([&](pqxx::work& tx) {
    if (!repo::lock_room(tx, *id)) return;
    const auto seat = repo::standing(tx, *id, user_id).seat;
    if (seat) closed = give_up_seat(tx, *id, user_id, *seat);
  });
  if (closed) announce_left(*id, user_id, *closed, *closed ? "host_disconnected" : "disconnected");
}

bool RoomService::give_up_seat(pqxx::work& tx, const std::string& room_id, std::int64_t user_id, Seat seat) {
  if (seat == Seat::host) return repo::delete_room(tx, room_id);
  repo::delete_participant(tx, room_id, user_id);
  return false;
}

void RoomService::announce_left(const std::string& room_id, std::int64_t user_id, bool closed, const char* reason) {
  if (closed) {
    announce_closed(room_id, reason);
    return;
  }
  hub_.publish(topic_of(room_id), "participant.left", {{"room_id", room_id}, {"user_id", user_id}, {"reason", reason}},
               {.hidden_from = {}, .last_for = user_id});
}

void RoomService::kick(const auth::AuthUser& caller, const std::string& room_id, std::int64_t user_id) {
  const std::string id = require_room_id(room_id);
  db_.transact([&](pqxx::work& tx) {
    const auto [key, standing] = lock_visible(tx, id, caller);
    if (key.host_id != caller.id) throw ApiError(ErrorCode::forbidden, "Only the host can kick participants");
    if (user_id == caller.id) throw ApiError(ErrorCode::conflict, "The host cannot be kicked: leave to close the room");
    if (!repo::standing(tx, id, user_id).seat) throw ApiError(ErrorCode::not_found, "This user is not in the room");
    repo::kick(tx, id, user_id);
  });
  hub_.publish(topic_of(id), "participant.kicked", {{"room_id", id}, {"user_id", user_id}},
               {.hidden_from = {}, .last_for = user_id});
}

Invited RoomService::invite(const auth::AuthUser& caller, const std::string& room_id, std::int64_t user_id) {
  const std::string id = require_room_id(room_id);
  // The room's rules first, so only its host learns anything about the invitee.
  const auto check_host = [&](pqxx::work& tx) {
    const auto [key, standing] = lock_visible(tx, id, caller);
    if (key.host_id != caller.id) throw ApiError(ErrorCode::forbidden, "Only the host can invite to this room");
    return key;
  };
  const repo::RoomKey key = db_.transact(check_host);
  const auto cards = accounts_.cards({user_id});
  if (cards.empty() || !cards.front().is_active) invalid("user_id", "Invalid user", "no such user");
  if (accounts_.is_blocked(user_id, caller.id)) {
    throw ApiError(ErrorCode::forbidden, "You cannot invite a user who blocked you");
  }
  const bool created = db_.transact([&](pqxx::work& tx) {
    check_host(tx);
    const repo::Standing invitee = repo::standing(tx, id, user_id);
    if (invitee.seat) throw ApiError(ErrorCode::conflict, "This user is in the room already");
    if (invitee.kicked) throw ApiError(ErrorCode::conflict, "This user was kicked from the room");
    return repo::insert_invite(tx, id, user_id, caller.id);
  });
  if (created) {
    notifications_.notify(user_id, notifications::Type::room_invite,
                          {{"room_id", id},
                           {"title", key.title},
                           {"inviter_id", caller.id},
                           {"inviter_username", caller.username}});
  }
  return Invited{.room_id = id, .user_id = user_id, .created = created};
}

void RoomService::remove(const auth::AuthUser& caller, const std::string& room_id) {
  const std::string id = require_room_id(room_id);
  db_.transact([&](pqxx::work& tx) {
    const auto [key, standing] = lock_visible(tx, id, caller);
    if (key.host_id != caller.id && caller.role != auth::Role::admin) {
      throw ApiError(ErrorCode::forbidden, "Only the host or an admin can close this room");
    }
    repo::delete_room(tx, id);
  });
  announce_closed(id, "deleted");
}

void RoomService::grant_control(const auth::AuthUser& caller, const std::string& room_id, std::int64_t user_id,
                                bool allowed) {
  const std::string id = require_room_id(room_id);
  db_.transact([&](pqxx::work& tx) {
    require_host(tx, id, caller, "grants playback control");
    if (user_id == caller.id) throw ApiError(ErrorCode::conflict, "The host always controls playback");
    if (!repo::set_control(tx, id, user_id, allowed)) throw ApiError(ErrorCode::not_found, "This user is not in the room");
  });
  hub_.publish(topic_of(id), "participant.control", {{"room_id", id}, {"user_id", user_id}, {"can_control", allowed}});
}

Playback RoomService::control(const auth::AuthUser& caller, const std::string& room_id,
                              const PlaybackControl& control) {
  const std::string id = require_room_id(room_id);
  const Playback next = db_.transact([&](pqxx::work& tx) {
    const auto current = repo::lock_playback(tx, id);
    if (!current) room_not_found();
    const repo::Standing standing = repo::standing(tx, id, caller.id);
    if (!standing.seat) room_not_found();
    if (*standing.seat != Seat::host && !standing.can_control) {
      throw ApiError(ErrorCode::forbidden, "Only the host, and whom the host lets, control playback");
    }
    // Stamped after the lock: changes of one room are ordered by their stamps as by the lock.
    const Playback changed = apply(current->at(std::chrono::system_clock::now()), control);
    repo::save_playback(tx, id, changed);
    return changed;
  });
  heartbeats_.changed(id, next, playback_action_name(control.action));
  return next;
}

void RoomService::require_host(pqxx::work& tx, const std::string& room_id, const auth::AuthUser& caller,
                               const char* what) {
  const auto key = repo::lock_room(tx, room_id);
  if (!key) room_not_found();
  if (key->host_id == caller.id) return;
  if (!repo::standing(tx, room_id, caller.id).seat) room_not_found();
  throw ApiError(ErrorCode::forbidden, std::string("Only the host ") + what);
}

MessagePage RoomService::with_usernames(std::vector<RoomMessage> messages, std::int64_t limit) {
  MessagePage page;
  if (static_cast<std::int64_t>(messages.size()) > limit) {
    messages.pop_back();
    page.next_cursor = messages.back().position;
  }
  page.messages = std::move(messages);
  accounts_.fill_usernames(page.messages, &RoomMessage::user_id, &RoomMessage::username);
  return page;
}

RoomMessage RoomService::send_message(const auth::AuthUser& caller, const std::string& room_id, const std::string& text) {
  const std::string id = require_room_id(room_id);
  modules::require_message_text(text, kMaxMessage);
  RoomMessage message = db_.transact([&](pqxx::work& tx) {
    if (!repo::lock_room(tx, id)) room_not_found();
    // A later statement than the lock: it sees the sender's last message of any earlier holder.
    const repo::ChatGate gate = repo::chat_gate(tx, id, caller.id);
    if (!gate.seat) room_not_found();
    if (*gate.seat != Seat::host && gate.slow_mode_seconds > 0 && gate.since_last &&
        *gate.since_last < gate.slow_mode_seconds) {
      const int left = static_cast<int>(std::ceil(gate.slow_mode_seconds - *gate.since_last));
      throw ApiError(ErrorCode::rate_limited, "Slow mode is on in this room: you can send your next message in " +
                                                  std::to_string(left) + " s")
          .with_retry_after(left);
    }
    return repo::insert_message(tx, id, caller.id, text);
  });
  message.username = caller.username;
  hub_.publish(topic_of(id), "message.created", {{"room_id", id}, {"message", message_json(message)}});
  return message;
}

MessagePage RoomService::history(const auth::AuthUser& caller, const std::string& room_id,
                                 const std::optional<std::string>& cursor, std::int64_t limit) {
  const std::string id = require_room_id(room_id);
  std::optional<modules::KeysetPosition> after;
  if (cursor) {
    after = modules::parse_keyset_cursor(*cursor);
    if (!after) invalid("cursor", "Invalid cursor", "is not a cursor of this history");
  }
  auto messages = db_.transact([&](pqxx::work& tx) {
    if (!repo::standing(tx, id, caller.id).seat) room_not_found();
    std::optional<std::int64_t> micros;
    std::optional<std::string> after_id;
    if (after) {
      micros = after->micros;
      after_id = after->id;
    }
    return repo::messages(tx, id, micros, after_id, limit + 1);  // one more tells whether a page follows
  });
  return with_usernames(std::move(messages), limit);
}

void RoomService::delete_message(const auth::AuthUser& caller, const std::string& room_id, const std::string& message_id) {
  const std::string id = require_room_id(room_id);
  const std::string message = modules::require_uuid(message_id, "Message not found");
  db_.transact([&](pqxx::work& tx) {
    require_host(tx, id, caller, "deletes messages");
    if (!repo::delete_message(tx, id, message)) throw ApiError(ErrorCode::not_found, "Message not found");
  });
  hub_.publish(topic_of(id), "message.deleted", {{"room_id", id}, {"message_id", message}});
}

int RoomService::set_slow_mode(const auth::AuthUser& caller, const std::string& room_id, int seconds) {
  const std::string id = require_room_id(room_id);
  if (seconds < 0 || seconds > kMaxSlowMode) {
    invalid("seconds", "Invalid slow mode", "must be from 0 to " + std::to_string(kMaxSlowMode));
  }
  db_.transact([&](pqxx::work& tx) {
    require_host(tx, id, caller, "sets the slow mode");
    repo::set_slow_mode(tx, id, seconds);
  });
  hub_.publish(topic_of(id), "room.slow_mode", {{"room_id", id}, {"slow_mode_seconds", seconds}});
  return seconds;
}

bool RoomService::may_subscribe(const auth::AuthUser& user, const std::string& room_id) {
  if (canonical_uuid(room_id) != room_id) return false;
  return db_.transact([&](pqxx::work& tx) { return repo::standing(tx, room_id, user.id).seat.has_value(); });
}

}  // namespace reelhub::rooms
