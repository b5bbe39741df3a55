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

/// An invitation as its sender sees it: `created` is false when it was pending already.
struct Invited {
  std::string chat_id;
  std::int64_t user_id = 0;
  bool created = false;
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

/// The group rules (docs/architecture.md "Chats" states them for clients):
/// - Consent: nobody becomes a member of a group without accepting. Creating a group and inviting
///   make pending invitations (a `chat_invite` notification each); the invitee accepts or declines.
///   Members and pending invitations together count against kMaxGroupMembers.
/// - A user who blocked someone cannot be invited by them (403), to a new group or an existing one.
/// - Any member may invite and leave; the last member to leave deletes the group.
/// - Blocks in groups hide both ways: where either of two members blocked the other, neither sees
///   the other's messages (history, `after=` replay, last message, unread counts) nor their live
///   `message.new`, `message.read` and `typing` events. Decided by the blocks at the time of
///   reading (history) or of publishing (live events); unblocking shows the history again.
/// Direct chats keep their rule: a user who was blocked cannot open or write the chat (403).
class ChatService {
 public:
  static constexpr std::size_t kMaxTextLength = 4000;  // code points
  static constexpr std::size_t kMaxGroupMembers = 200;  // the creator and pending invitations included
  static constexpr std::int64_t kMaxListedInvites = 100;  // GET /chats/invites: the newest ones

  ChatService(db::Pool& db, ws::Hub& hub, notifications::NotificationService& notifications, RateRule send_rate);

  /// The caller's chats with members, last message and unread count. 422 for a bad cursor.
  ChatPage list(const auth::AuthUser& caller, const std::optional<std::string>& cursor, std::int64_t limit);
  /// Direct: exactly one other user, and the existing chat of the pair when there is one.
  /// Group: the caller is its only member and the others are invited.
  /// 422 for unknown or inactive members, 403 when one of them blocked the caller.
  Opened create(const auth::AuthUser& caller, const NewChat& request);
  /// Invites `user_id` to a group the caller is a member of and notifies them (`chat_invite`);
  /// an invitation that is pending already is not sent again. 404 unknown chat, 403 not a member
  /// or the user blocked the caller, 409 a direct chat, a member already or the group is full,
  /// 422 unknown or inactive user.
  Invited invite(const auth::AuthUser& caller, const std::string& chat_id, std::int64_t user_id);
  /// The caller's pending invitations, newest first (at most kMaxListedInvites).
  std::vector<Invite> invites(const auth::AuthUser& caller);
  /// Turns the caller's invitation into membership and publishes `member.joined`. 404 when the
  /// caller has no invitation to the chat.
  Chat accept(const auth::AuthUser& caller, const std::string& chat_id);
  /// Deletes the caller's invitation. 404 when there is none.
  void decline(const auth::AuthUser& caller, const std::string& chat_id);
  /// Ends the caller's membership of a group and publishes `member.left`, after which their sockets
  /// get nothing more of the chat. 404 unknown chat, 403 not a member, 409 a direct chat.
  void leave(const auth::AuthUser& caller, const std::string& chat_id);
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
  /// A member's view of a chat: its type, its members and whom the block rule separates them from.
  struct View {
    ChatType type = ChatType::direct;
    std::vector<std::int64_t> members;
    std::vector<std::int64_t> hidden;  // group members either blocked by or blocking the viewer
  };
  /// 404 unknown chat, 403 not a member.
  View view_of(std::int64_t user_id, const std::string& chat_id);
  /// Chats as `viewer` sees them: with member and invitee names, the last visible message and unread
  /// counts without hidden messages. `chats` come from chats_of/chat_of with members and invitations.
  std::vector<Chat> completed(std::int64_t viewer, std::vector<Chat> chats);
  /// Sends `chat_invite` to each invitee.
  void notify_invited(const auth::AuthUser& inviter, const std::string& chat_id,
                      const std::optional<std::string>& title, const std::vector<std::int64_t>& invitees);

  db::Pool& db_;
  ws::Hub& hub_;
  notifications::NotificationService& notifications_;
  users::Accounts accounts_;
  SendLimiter limiter_;
};

}  // namespace reelhub::chats
