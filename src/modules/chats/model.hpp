#pragma once
// What the chats module stores: chats, their members and messages.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace reelhub::chats {

enum class ChatType { direct, group };
const char* chat_type_name(ChatType type);
std::optional<ChatType> parse_chat_type(std::string_view name);

struct Message {
  std::string id;  // uuid
  std::string chat_id;
  std::int64_t seq = 0;  // position in the chat: 1, 2, 3... in commit order
  std::int64_t sender_id = 0;
  std::string text;
  std::optional<std::string> client_msg_id;
  std::string created_at;  // ISO 8601 Z
};

struct Member {
  std::int64_t id = 0;
  std::string username;
};

/// A chat as one of its members sees it (read marker and unread count are theirs).
struct Chat {
  std::string id;  // uuid
  ChatType type = ChatType::direct;
  std::optional<std::string> title;  // groups only
  std::int64_t created_by = 0;
  std::vector<Member> members;
  std::vector<Member> invited;  // pending invitations (groups only): not members until they accept
  std::optional<Message> last_message;  // the newest one the viewer may see
  std::int64_t last_read_seq = 0;
  std::int64_t unread_count = 0;  // messages of others after the read marker, hidden ones not counted
  std::string created_at;
  std::string last_activity_at;  // the last message's time, else created_at
  std::string position;          // keyset position in GET /chats, the next page's cursor
};

/// A pending invitation to a group, as its invitee sees it.
struct Invite {
  std::string chat_id;
  std::optional<std::string> title;
  std::int64_t invited_by = 0;
  std::string inviter_username;
  std::string created_at;
};

struct ChatPage {
  std::vector<Chat> chats{};  // most recent activity first
  std::optional<std::string> next_cursor{};
};

struct MessagePage {
  std::vector<Message> messages{};  // newest first; oldest first for `after`
  std::optional<std::string> next_cursor{};  // for the same parameter; nullopt on the last page
};

struct ReadReceipt {
  std::string chat_id;
  std::string message_id;
  std::int64_t last_read_seq = 0;  // may be past the message when a later one was read already
  std::int64_t unread_count = 0;
};

}  // namespace reelhub::chats
