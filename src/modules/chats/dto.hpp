#pragma once
// JSON shapes of the chats endpoints and of the events published on `chat:<id>`.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "model.hpp"

namespace reelhub::chats {

/// {id, chat_id, seq, sender_id, text, client_msg_id, created_at}: also the `message.new` data.
nlohmann::json message_json(const Message& message);
/// {id, type, title, created_by, members: [{id, username}], invited: [{id, username}],
///  last_message, last_read_seq, unread_count, created_at, last_activity_at}
nlohmann::json chat_json(const Chat& chat);
/// {chats: [...], next_cursor}
nlohmann::json chat_page_json(const ChatPage& page);
/// {messages: [...], next_cursor}
nlohmann::json message_page_json(const MessagePage& page);
/// {invites: [{chat_id, title, invited_by, inviter_username, created_at}]}
nlohmann::json invite_list_json(const std::vector<Invite>& invites);
/// {chat_id, user_id}: the answer to an invitation sent.
nlohmann::json invited_json(const std::string& chat_id, std::int64_t user_id);
/// {chat_id, message_id, last_read_seq, unread_count}
nlohmann::json read_receipt_json(const ReadReceipt& receipt);

}  // namespace reelhub::chats
