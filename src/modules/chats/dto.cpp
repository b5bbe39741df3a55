#include "dto.hpp"

#include "reelhub/core/json.hpp"

namespace reelhub::chats {

nlohmann::json message_json(const Message& m) {
  return {{"id", m.id},
          {"chat_id", m.chat_id},
          {"seq", m.seq},
          {"sender_id", m.sender_id},
          {"text", m.text},
          {"client_msg_id", nullable(m.client_msg_id)},
          {"created_at", m.created_at}};
}

nlohmann::json chat_json(const Chat& c) {
  nlohmann::json members = nlohmann::json::array();
  for (const auto& member : c.members) members.push_back({{"id", member.id}, {"username", member.username}});
  return {{"id", c.id},
          {"type", chat_type_name(c.type)},
          {"title", nullable(c.title)},
          {"created_by", c.created_by},
          {"members", std::move(members)},
          {"last_message", c.last_message ? message_json(*c.last_message) : nlohmann::json(nullptr)},
          {"last_read_seq", c.last_read_seq},
          {"unread_count", c.unread_count},
          {"created_at", c.created_at},
          {"last_activity_at", c.last_activity_at}};
}

nlohmann::json chat_page_json(const ChatPage& page) {
  nlohmann::json chats = nlohmann::json::array();
  for (const auto& chat : page.chats) chats.push_back(chat_json(chat));
  return {{"chats", std::move(chats)}, {"next_cursor", nullable(page.next_cursor)}};
}

nlohmann::json message_page_json(const MessagePage& page) {
  nlohmann::json messages = nlohmann::json::array();
  for (const auto& message : page.messages) messages.push_back(message_json(message));
  return {{"messages", std::move(messages)}, {"next_cursor", nullable(page.next_cursor)}};
}

nlohmann::json read_receipt_json(const ReadReceipt& r) {
  return {{"chat_id", r.chat_id},
          {"message_id", r.message_id},
          {"last_read_seq", r.last_read_seq},
          {"unread_count", r.unread_count}};
}

}  // namespace reelhub::chats
