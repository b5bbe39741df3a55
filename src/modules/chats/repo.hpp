#pragma once
// SQL of the chats module. Only this module reads or writes chats, chat_members and chat_messages.
// Chat and message ids arrive here already validated as UUIDs.

#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <utility>
#include <vector>

#include "model.hpp"

namespace reelhub::chats::repo {

/// A chat's type and whether `user_id` belongs to it.
struct Access {
  ChatType type = ChatType::direct;
  bool is_member = false;
};

/// Nullopt when the chat does not exist.
std::optional<Access> access(pqxx::work& tx, const std::string& chat_id, std::int64_t user_id);
std::vector<std::int64_t> member_ids(pqxx::work& tx, const std::string& chat_id);

/// The direct chat of two users, created with both as members unless it exists. Returns its id
/// and whether it was created; safe when both users open it at once.
std::pair<std::string, bool> open_direct(pqxx::work& tx, std::int64_t creator_id, std::int64_t other_id);
/// Creates a group with its creator as the only member; returns its id.
std::string insert_group(pqxx::work& tx, std::int64_t creator_id, const std::optional<std::string>& title);

/// Invites each of `user_ids` who is neither a member nor invited yet; returns those, by id.
std::vector<std::int64_t> insert_invites(pqxx::work& tx, const std::string& chat_id, std::int64_t inviter_id,
                                         const std::vector<std::int64_t>& user_ids);
/// Members plus pending invitations: what the group-size cap counts.
std::int64_t occupancy(pqxx::work& tx, const std::string& chat_id);
/// Deletes the user's invitation to the chat; false when there was none.
bool take_invite(pqxx::work& tx, const std::string& chat_id, std::int64_t user_id);
/// `user_id`'s pending invitations, newest first (inviter names not filled in).
std::vector<Invite> invites_for(pqxx::work& tx, std::int64_t user_id, std::int64_t limit);
/// (chat id, user id) of every pending invitation to the chats, oldest first.
std::vector<std::pair<std::string, std::int64_t>> invites_of(pqxx::work& tx, const std::vector<std::string>& chat_ids);
/// Adds a member whose read marker starts at the chat's last message: history is readable, not unread.
void insert_member(pqxx::work& tx, const std::string& chat_id, std::int64_t user_id);
/// Removes the member; deletes the chat (messages and invitations with it) when nobody is left.
void remove_member(pqxx::work& tx, const std::string& chat_id, std::int64_t user_id);

/// Keyset position of GET /chats: microseconds of last activity and the chat id.
struct Position {
  std::int64_t activity_us = 0;
  std::string chat_id;
};
/// `user_id`'s chats, most recent activity first, after `after` when given. Members and last
/// messages are not filled in (see members_of, last_messages).
std::vector<Chat> chats_of(pqxx::work& tx, std::int64_t user_id, const std::optional<Position>& after,
                           std::int64_t limit);
std::optional<Chat> chat_of(pqxx::work& tx, std::int64_t user_id, const std::string& chat_id);
/// (chat id, user id) of every member of the chats, in joining order.
std::vector<std::pair<std::string, std::int64_t>> members_of(pqxx::work& tx, const std::vector<std::string>& chat_ids);
/// The newest message of each of the chats that has one not sent by any of `hidden_senders`.
std::vector<Message> last_messages(pqxx::work& tx, const std::vector<std::string>& chat_ids,
                                   const std::vector<std::int64_t>& hidden_senders);
/// Per chat of `user_id`'s among `chat_ids`: the messages of `hidden_senders` after their read
/// marker (chats with none are absent).
std::vector<std::pair<std::string, std::int64_t>> hidden_unread(pqxx::work& tx, std::int64_t user_id,
                                                                const std::vector<std::string>& chat_ids,
                                                                const std::vector<std::int64_t>& hidden_senders);

/// The seq of a message of the chat; nullopt when the chat has no such message.
std::optional<std::int64_t> message_seq(pqxx::work& tx, const std::string& chat_id, const std::string& message_id);
/// Up to `limit` messages before `before_seq` (all when nullopt), newest first, none of `hidden_senders`.
std::vector<Message> messages_before(pqxx::work& tx, const std::string& chat_id, std::optional<std::int64_t> before_seq,
                                     std::int64_t limit, const std::vector<std::int64_t>& hidden_senders);
/// Up to `limit` messages after `after_seq`, oldest first, none of `hidden_senders`.
std::vector<Message> messages_after(pqxx::work& tx, const std::string& chat_id, std::int64_t after_seq,
                                    std::int64_t limit, const std::vector<std::int64_t>& hidden_senders);

/// Locks the chat until commit: sends, joins and leaves of one chat take their turns here.
/// False when the chat does not exist (any more).
bool lock_chat(pqxx::work& tx, const std::string& chat_id);
std::optional<Message> find_by_client_msg_id(pqxx::work& tx, const std::string& chat_id, std::int64_t sender_id,
                                             const std::string& client_msg_id);
/// Appends a message with the chat's next seq and moves the sender's read marker onto it.
/// Call with the chat locked.
Message insert_message(pqxx::work& tx, const std::string& chat_id, std::int64_t sender_id, const std::string& text,
                       const std::optional<std::string>& client_msg_id);

/// Moves the member's read marker forward to `seq`; false when it already was at or past it.
bool advance_read_marker(pqxx::work& tx, const std::string& chat_id, std::int64_t user_id, std::int64_t seq);
struct ReadState {
  std::int64_t last_read_seq = 0;
  std::int64_t unread_count = 0;  // messages after the marker
};
ReadState read_state(pqxx::work& tx, const std::string& chat_id, std::int64_t user_id);

}  // namespace reelhub::chats::repo
