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

namespace {

nlohmann::json members_json(const std::vector<Member>& members) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& member : members) out.push_back({{"id", member.id}, {"username", member.username}});
  return out;
}

}  // namespace

nlohmann::json chat_json(const Chat& c) {
  return {{"id", c.id},
          {"type", chat_type_name(c.type)},
          {"title", nullable(c.title)},
          {"created_by", c.created_by},
          {"members", members_json(c.members)},
          {"invited", members_json(c.invited)},
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

nlohmann::json invite_list_json(const std::vector<Invite>& invites) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& i : invites) {
    out.push_back({{"chat_id", i.chat_id},
                   {"title", nullable(i.title)},
                   {"invited_by", i.invited_by},
                   {"inviter_username", i.inviter_username},
                   {"created_at", i.created_at}});
  }
  return {{"invites", std::move(out)}};
}

nlohmann::json invited_json(const std::string& chat_id, std::int64_t user_id) {
  return {{"chat_id", chat_id}, {"user_id", user_id}};
}

nlohmann::json read_receipt_json(const ReadReceipt& r) {
  return {{"chat_id", r.chat_id},
          {"message_id", r.message_id},
          {"last_read_seq", r.last_read_seq},
          {"unread_count", r.unread_count}};
}

}  // namespace reelhub::chats
