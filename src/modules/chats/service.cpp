#include "service.hpp"

#include <algorithm>
#include <cctype>
#include <map>

#include "dto.hpp"
#include "modules/kit/cursor.hpp"
#include "modules/kit/ids.hpp"
#include "modules/kit/text.hpp"
#include "reelhub/core/error.hpp"
#include "reelhub/core/json.hpp"
#include "reelhub/core/validation.hpp"
#include "repo.hpp"

namespace reelhub::chats {
namespace {

constexpr std::size_t kPreviewLength = 100;  // code points of a message quoted in a notification

[[noreturn]] void chat_not_found() { throw ApiError(ErrorCode::not_found, "Chat not found"); }

[[noreturn]] void no_invitation() { throw ApiError(ErrorCode::not_found, "You have no invitation to this chat"); }

[[noreturn]] void invalid(const std::string& field, std::string message, std::string detail) {
  throw ApiError(ErrorCode::validation_failed, std::move(message), {{field, {std::move(detail)}}});
}

/// The seq of message `id` of the chat; 422 naming `field` when the chat has no such message.
std::int64_t require_message(pqxx::work& tx, const std::string& chat_id, const std::string& id, const char* field) {
  const auto canonical = canonical_uuid(id);
  const auto seq = canonical ? repo::message_seq(tx, chat_id, *canonical) : std::nullopt;
  if (!seq) invalid(field, "Invalid message", "is not a message of this chat");
  return *seq;
}

/// The chat id of a path, canonical; anything but a UUID names no chat.
std::string require_chat_id(const std::string& id) { return modules::require_uuid(id, "Chat not found"); }

std::string topic_of(const std::string& chat_id) { return "chat:" + chat_id; }

/// 404 when the chat does not exist, 403 when the user is not one of its members.
repo::Access require_member(pqxx::work& tx, const std::string& chat_id, std::int64_t user_id) {
  const auto access = repo::access(tx, chat_id, user_id);
  if (!access) chat_not_found();
  if (!access->is_member) throw ApiError(ErrorCode::forbidden, "You are not a member of this chat");
  return *access;
}


/// Fills each chat's member ids and pending invitations, in the caller's transaction.
void add_members_and_invites(pqxx::work& tx, std::vector<Chat>& chats) {
  std::vector<std::string> ids;
  for (const auto& chat : chats) ids.push_back(chat.id);
  std::map<std::string, Chat*> by_id;
  for (auto& chat : chats) by_id[chat.id] = &chat;
  for (const auto& [chat_id, user_id] : repo::members_of(tx, ids)) by_id.at(chat_id)->members.push_back({user_id, {}});
  for (const auto& [chat_id, user_id] : repo::invites_of(tx, ids)) by_id.at(chat_id)->invited.push_back({user_id, {}});
}

/// Locks the chat (see repo::lock_chat); 404 when it does not exist.
void lock_existing(pqxx::work& tx, const std::string& chat_id) {
  if (!repo::lock_chat(tx, chat_id)) chat_not_found();
}

}  // namespace

ChatService::ChatService(db::Pool& db, ws::Hub& hub, notifications::NotificationService& notifications,
                         RateRule send_rate)
    : db_(db), hub_(hub), notifications_(notifications), accounts_(db), limiter_(send_rate) {}

std::vector<Chat> ChatService::completed(std::int64_t viewer, std::vector<Chat> chats) {
  // Accounts borrows its own connection, so this runs outside any chats transaction: holding two
  // at once could exhaust the pool.
  std::vector<std::int64_t> people, group_members;
  std::vector<std::string> direct_ids, group_ids;
  for (const auto& chat : chats) {
    (chat.type == ChatType::group ? group_ids : direct_ids).push_back(chat.id);
    for (const auto& member : chat.members) {
      people.push_back(member.id);
      if (chat.type == ChatType::group) group_members.push_back(member.id);
    }
    for (const auto& invitee : chat.invited) people.push_back(invitee.id);
  }
  auto names = accounts_.usernames(std::move(people));
  const auto hidden = accounts_.block_partners(viewer, group_members);

  db_.transact([&](pqxx::work& tx) {
    std::map<std::string, Chat*> by_id;
    for (auto& chat : chats) by_id[chat.id] = &chat;
    const auto set_last = [&](std::vector<Message> messages) {
      for (auto& message : messages) by_id.at(message.chat_id)->last_message = std::move(message);
    };
    if (!direct_ids.empty()) set_last(repo::last_messages(tx, direct_ids, {}));
    if (!group_ids.empty()) set_last(repo::last_messages(tx, group_ids, hidden));
    for (const auto& [chat_id, count] : repo::hidden_unread(tx, viewer, group_ids, hidden)) {
      by_id.at(chat_id)->unread_count -= count;
    }
  });
  for (auto& chat : chats) {
    for (auto& member : chat.members) member.username = names[member.id];
    for (auto& invitee : chat.invited) invitee.username = names[invitee.id];
  }
  return chats;
}

ChatService::View ChatService::view_of(std::int64_t user_id, const std::string& chat_id) {
  View view;
  db_.transact([&](pqxx::work& tx) {
    view.type = require_member(tx, chat_id, user_id).type;
    view.members = repo::member_ids(tx, chat_id);
  });
  if (view.type == ChatType::group) view.hidden = accounts_.block_partners(user_id, view.members);
  return view;
}

void ChatService::notify_invited(const auth::AuthUser& inviter, const std::string& chat_id,
                                 const std::optional<std::string>& title, const std::vector<std::int64_t>& invitees) {
  for (const auto user_id : invitees) {
    notifications_.notify(user_id, notifications::Type::chat_invite,
                          {{"chat_id", chat_id},
                           {"title", nullable(title)},
                           {"inviter_id", inviter.id},
                           {"inviter_username", inviter.username}});
  }
}

ChatPage ChatService::list(const auth::AuthUser& caller, const std::optional<std::string>& cursor,
                           std::int64_t limit) {
  std::optional<repo::Position> after;
  if (cursor) {
    const auto position = modules::parse_keyset_cursor(*cursor);
    if (!position) invalid("cursor", "Invalid cursor", "is not a cursor of this list");
    after = repo::Position{position->micros, position->id};
  }
  ChatPage page = db_.transact([&](pqxx::work& tx) {
    // One row more than asked tells whether another page follows.
    ChatPage out{.chats = repo::chats_of(tx, caller.id, after, limit + 1)};
    if (static_cast<std::int64_t>(out.chats.size()) > limit) {
      out.chats.pop_back();
      out.next_cursor = out.chats.back().position;
    }
    add_members_and_invites(tx, out.chats);
    return out;
  });
  page.chats = completed(caller.id, std::move(page.chats));
  return page;
}

Opened ChatService::create(const auth::AuthUser& caller, const NewChat& request) {
  std::vector<std::int64_t> others;
  for (const auto id : request.member_ids)
    if (id != caller.id && std::find(others.begin(), others.end(), id) == others.end()) others.push_back(id);

  if (request.type == ChatType::direct) {
    if (others.size() != 1) invalid("member_ids", "Invalid members", "a direct chat needs exactly one other user");
    if (request.title) invalid("title", "Invalid chat", "only group chats have a title");
  } else if (others.empty() || others.size() + 1 > kMaxGroupMembers) {
    invalid("member_ids", "Invalid members",
            "a group needs 1 to " + std::to_string(kMaxGroupMembers - 1) + " other users");
  }
  std::vector<std::int64_t> unknown = others;
  for (const auto& card : accounts_.cards(others))
    if (card.is_active) std::erase(unknown, card.id);
  if (!unknown.empty()) {
    std::string list;
    for (const auto id : unknown) list += (list.empty() ? "" : ", ") + std::to_string(id);
    invalid("member_ids", "Invalid members", "no such user: " + list);
  }
  const bool blocked = request.type == ChatType::direct ? accounts_.is_blocked(others.front(), caller.id)
                                                          : accounts_.blocked_by_any(others, caller.id);
  if (blocked) throw ApiError(ErrorCode::forbidden, "You cannot start a chat with a user who blocked you");

  auto [chats, created] = db_.transact([&](pqxx::work& tx) {
    std::pair<std::string, bool> opened;
    if (request.type == ChatType::direct) {
      opened = repo::open_direct(tx, caller.id, others.front());
    } else {
      opened = {repo::insert_group(tx, caller.id, request.title), true};
      repo::insert_invites(tx, opened.first, caller.id, others);
    }
    std::vector<Chat> chats{repo::chat_of(tx, caller.id, opened.first).value()};
    add_members_and_invites(tx, chats);
    return std::pair{std::move(chats), opened.second};
  });
  if (request.type == ChatType::group) notify_invited(caller, chats.front().id, request.title, others);
  return Opened{std::move(completed(caller.id, std::move(chats)).front()), created};
}

Invited ChatService::invite(const auth::AuthUser& caller, const std::string& chat_id, std::int64_t user_id) {
  const std::string id = require_chat_id(chat_id);
  if (user_id == caller.id) throw ApiError(ErrorCode::conflict, "You are a member of this chat already");
  const auto cards = accounts_.cards({user_id});
  if (cards.empty() || !cards.front().is_active) invalid("user_id", "Invalid user", "no such user");
  // Checked before the transaction (Accounts borrows its own connection); a block made in between
  // is as if made just after the invitation, which the invitee can still decline.
  if (accounts_.is_blocked(user_id, caller.id)) {
    throw ApiError(ErrorCode::forbidden, "You cannot invite a user who blocked you");
  }
  std::optional<std::string> title;
  const bool created = db_.transact([&](pqxx::work& tx) {
    // Locked first: invitations, joins and leaves of one group take turns, so the size cap holds.
    lock_existing(tx, id);
    if (require_member(tx, id, caller.id).type == ChatType::direct) {
      throw ApiError(ErrorCode::conflict, "A direct chat has exactly its two users");
    }
    if (repo::access(tx, id, user_id)->is_member) {
      throw ApiError(ErrorCode::conflict, "The user is a member of this chat already");
    }
    if (repo::occupancy(tx, id) >= static_cast<std::int64_t>(kMaxGroupMembers)) {
      throw ApiError(ErrorCode::conflict,
                     "The group is full: at most " + std::to_string(kMaxGroupMembers) + " members and invitations");
    }
    title = repo::chat_of(tx, caller.id, id).value().title;
    return !repo::insert_invites(tx, id, caller.id, {user_id}).empty();
  });
  if (created) notify_invited(caller, id, title, {user_id});
  return Invited{id, user_id, created};
}

std::vector<Invite> ChatService::invites(const auth::AuthUser& caller) {
  auto invites = db_.transact([&](pqxx::work& tx) { return repo::invites_for(tx, caller.id, kMaxListedInvites); });
  accounts_.fill_usernames(invites, &Invite::invited_by, &Invite::inviter_username);
  return invites;
}

Chat ChatService::accept(const auth::AuthUser& caller, const std::string& chat_id) {
  const std::string id = require_chat_id(chat_id);
  auto chats = db_.transact([&](pqxx::work& tx) {
    if (!repo::lock_chat(tx, id) || !repo::take_invite(tx, id, caller.id)) {
      no_invitation();
    }
    repo::insert_member(tx, id, caller.id);
    std::vector<Chat> chats{repo::chat_of(tx, caller.id, id).value()};
    add_members_and_invites(tx, chats);
    return chats;
  });
  hub_.publish(topic_of(id), "member.joined", {{"chat_id", id}, {"user_id", caller.id}, {"username", caller.username}});
  return std::move(completed(caller.id, std::move(chats)).front());
}

void ChatService::decline(const auth::AuthUser& caller, const std::string& chat_id) {
  const std::string id = require_chat_id(chat_id);
  db_.transact([&](pqxx::work& tx) {
    if (!repo::take_invite(tx, id, caller.id)) no_invitation();
  });
}

void ChatService::leave(const auth::AuthUser& caller, const std::string& chat_id) {
  const std::string id = require_chat_id(chat_id);
  db_.transact([&](pqxx::work& tx) {
    lock_existing(tx, id);
    if (require_member(tx, id, caller.id).type == ChatType::direct) {
      throw ApiError(ErrorCode::conflict, "A direct chat cannot be left");
    }
    repo::remove_member(tx, id, caller.id);
  });
  // The leaver's sockets get this last event of the chat and are then unsubscribed, on every instance.
  hub_.publish(topic_of(id), "member.left", {{"chat_id", id}, {"user_id", caller.id}},
               ws::Audience{.last_for = caller.id});
}

MessagePage ChatService::history(const auth::AuthUser& caller, const std::string& chat_id,
                                 const HistoryRequest& request) {
  const std::string id = require_chat_id(chat_id);
  if (request.before && request.after) invalid("after", "Invalid query", "cannot be combined with before");
  const auto& cursor = request.before ? request.before : request.after;
  const char* cursor_field = request.before ? "before" : "after";
  const View view = view_of(caller.id, id);
  return db_.transact([&](pqxx::work& tx) {
    require_member(tx, id, caller.id);  // again: the caller may have left since
    std::optional<std::int64_t> seq;
    if (cursor) seq = require_message(tx, id, *cursor, cursor_field);
    MessagePage page{.messages = request.after ? repo::messages_after(tx, id, *seq, request.limit + 1, view.hidden)
                                               : repo::messages_before(tx, id, seq, request.limit + 1, view.hidden)};
    if (static_cast<std::int64_t>(page.messages.size()) > request.limit) {
      page.messages.pop_back();
      page.next_cursor = page.messages.back().id;
    }
    return page;
  });
}

Sent ChatService::send(const auth::AuthUser& caller, const std::string& chat_id, const std::string& text,
                       const std::optional<std::string>& client_msg_id) {
  const std::string id = require_chat_id(chat_id);
  modules::require_message_text(text, ChatService::kMaxTextLength);
  const View view = view_of(caller.id, id);
  std::optional<std::int64_t> recipient;  // the other user of a direct chat
  if (view.type == ChatType::direct) {
    const auto other =
        std::find_if(view.members.begin(), view.members.end(), [&](std::int64_t m) { return m != caller.id; });
    if (other != view.members.end()) recipient = *other;
  }
  if (recipient && accounts_.is_blocked(*recipient, caller.id)) {
    throw ApiError(ErrorCode::forbidden, "You cannot message a user who blocked you");
  }
  if (const int wait = limiter_.take(caller.id); wait > 0) {
    throw ApiError(ErrorCode::rate_limited, "Sending too fast; retry in " + std::to_string(wait) + " s")
        .with_retry_after(wait);
  }

  const Sent sent = db_.transact([&](pqxx::work& tx) {
    // Locked first, so a concurrent retry with the same client_msg_id waits here and then finds
    // this send's message instead of storing a second one; and a leave either precedes the send
    // (the membership check below refuses it) or follows it.
    lock_existing(tx, id);
    require_member(tx, id, caller.id);
    if (client_msg_id) {
      if (auto earlier = repo::find_by_client_msg_id(tx, id, caller.id, *client_msg_id)) {
        if (earlier->text != text) {
          throw ApiError(ErrorCode::conflict, "client_msg_id was already used for a different message",
                         {{"client_msg_id", {"was already used for a different text"}}});
        }
        return Sent{std::move(*earlier), false};
      }
    }
    return Sent{repo::insert_message(tx, id, caller.id, text, client_msg_id), true};
  });
  if (!sent.created) return sent;  // published when it was first stored

  hub_.publish(topic_of(id), "message.new", message_json(sent.message), ws::Audience{.hidden_from = view.hidden});
  if (recipient && !hub_.is_online(*recipient)) {
    notifications_.notify(*recipient, notifications::Type::direct_message,
                          {{"chat_id", id},
                           {"message_id", sent.message.id},
                           {"sender_id", caller.id},
                           {"sender_username", caller.username},
                           {"preview", modules::text_preview(text, kPreviewLength)}});
  }
  return sent;
}

ReadReceipt ChatService::mark_read(const auth::AuthUser& caller, const std::string& chat_id,
                                   const std::string& message_id) {
  const std::string id = require_chat_id(chat_id);
  const View view = view_of(caller.id, id);
  std::int64_t seq = 0;
  bool moved = false;
  const auto state = db_.transact([&](pqxx::work& tx) {
    require_member(tx, id, caller.id);
    seq = require_message(tx, id, message_id, "message_id");
    moved = repo::advance_read_marker(tx, id, caller.id, seq);
    auto read = repo::read_state(tx, id, caller.id);
    for (const auto& hidden : repo::hidden_unread(tx, caller.id, {id}, view.hidden)) read.unread_count -= hidden.second;
    return read;
  });
  const std::string message = canonical_uuid(message_id).value();  // require_message accepted it
  if (moved) {
    hub_.publish(topic_of(id), "message.read",
                 {{"chat_id", id}, {"user_id", caller.id}, {"message_id", message}, {"seq", seq}},
                 ws::Audience{.hidden_from = view.hidden});
  }
  return ReadReceipt{id, message, state.last_read_seq, state.unread_count};
}

void ChatService::typing(const auth::AuthUser& caller, const std::string& chat_id) {
  const std::string id = require_chat_id(chat_id);
  const View view = view_of(caller.id, id);
  hub_.publish(topic_of(id), "typing", {{"chat_id", id}, {"user_id", caller.id}, {"username", caller.username}},
               ws::Audience{.hidden_from = view.hidden});
}

bool ChatService::may_subscribe(const auth::AuthUser& user, const std::string& chat_id) {
  if (canonical_uuid(chat_id) != chat_id) return false;
  const auto access = db_.transact([&](pqxx::work& tx) { return repo::access(tx, chat_id, user.id); });
  return access && access->is_member;
}

}  // namespace reelhub::chats
