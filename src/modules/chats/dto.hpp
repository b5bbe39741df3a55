#pragma once
// JSON shapes of the chats endpoints and of the events published on `chat:<id>`.

#include <nlohmann/json.hpp>

#include "model.hpp"

namespace reelhub::chats {

/// {id, chat_id, seq, sender_id, text, client_msg_id, created_at}: also the `message.new` data.
nlohmann::json message_json(const Message& message);
/// {id, type, title, created_by, members: [{id, username}], last_message, last_read_seq,
///  unread_count, created_at, last_activity_at}
nlohmann::json chat_json(const Chat& chat);
/// {chats: [...], next_cursor}
nlohmann::json chat_page_json(const ChatPage& page);
/// {messages: [...], next_cursor}
nlohmann::json message_page_json(const MessagePage& page);
/// {chat_id, message_id, last_read_seq, unread_count}
nlohmann::json read_receipt_json(const ReadReceipt& receipt);

}  // namespace reelhub::chats
