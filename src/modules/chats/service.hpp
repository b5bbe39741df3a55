#pragma once
// Rules of the chats module: who may create, read and write which chat, idempotent sends, read
// markers, the send rate limit, and what is published on the hub's `chat:<id>` topics.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model.hpp"
#include "modules/notifications/service.hpp"
#include "modules/users/accounts.hpp"
#include "reelhub/core/config.hpp"
#include "reelhub/db/pool.hpp"
#include "reelhub/auth/identity.hpp"
#include "reelhub/ws/hub.hpp"
#include "send_limiter.hpp"

namespace reelhub::chats {

struct NewChat {
  ChatType type = ChatType::direct;
  std::vector<std::int64_t> member_ids{};  // the caller may be listed or not
  std::optional<std::string> title{};      // groups only
};

/// A created chat, or the direct chat that already existed between the two users.
struct Opened {
  Chat chat;
  bool created = false;
};

/// A stored message, or the one a retried send (same client_msg_id) stored before.
struct Sent {
  Message message;
  bool created = false;
};

/// `before` pages back from the newest message; `after` replays what followed a message
/// (reconnect recovery). Both name a message of the chat; at most one is given.
struct HistoryRequest {
  std::optional<std::string> before{};
  std::optional<std::string> after{};
  std::int64_t limit = 50;
};

class ChatService {
 public:
  static constexpr std::size_t kMaxTextLength = 4000;  // code points
  static constexpr std::size_t kMaxGroupMembers = 200;  // the creator included

  ChatService(db::Pool& db, ws::Hub& hub, notifications::NotificationService& notifications, RateRule send_rate);

  /// The caller's chats with members, last message and unread count. 422 for a bad cursor.
  ChatPage list(const auth::AuthUser& caller, const std::optional<std::string>& cursor, std::int64_t limit);
  /// Direct: exactly one other user, and the existing chat of the pair when there is one.
  /// 422 for unknown or inactive members, 403 when one of them blocked the caller.
  Opened create(const auth::AuthUser& caller, const NewChat& request);
  /// 404 unknown chat, 403 not a member, 422 a cursor that is no message of the chat.
  MessagePage history(const auth::AuthUser& caller, const std::string& chat_id, const HistoryRequest& request);
  /// Stores the message in one transaction, then publishes `message.new` on `chat:<id>`; a
  /// direct message to a recipient with no open socket also becomes a notification. A retry
  /// with the same client_msg_id returns the first message (409 when its text differs).
  /// 422 empty or too long, 429 over the send rate, 403 when the other user blocked the caller.
  Sent send(const auth::AuthUser& caller, const std::string& chat_id, const std::string& text,
            const std::optional<std::string>& client_msg_id);
  /// Moves the caller's read marker forward to the message (never back) and publishes
  /// `message.read` when it moved.
  ReadReceipt mark_read(const auth::AuthUser& caller, const std::string& chat_id, const std::string& message_id);
  /// Publishes `typing` to the chat's subscribers; nothing is stored.
  void typing(const auth::AuthUser& caller, const std::string& chat_id);
  /// The hub's access check for `chat:<id>`: members only, ids in canonical lower-case form
  /// (the form events are published under).
  bool may_subscribe(const auth::AuthUser& user, const std::string& chat_id);

 private:
  std::vector<Chat> with_member_names(std::vector<Chat> chats);

  db::Pool& db_;
  ws::Hub& hub_;
  notifications::NotificationService& notifications_;
  users::Accounts accounts_;
  SendLimiter limiter_;
};

}  // namespace reelhub::chats
