#pragma once
// Rules of the notifications module: what is stored for whom, what is pushed live, settings and
// device tokens. Other modules produce notifications through notify().

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model.hpp"
#include "reelhub/db/pool.hpp"
#include "reelhub/auth/identity.hpp"
#include "reelhub/ws/hub.hpp"

namespace reelhub::notifications {

struct PageRequest {
  std::optional<std::string> cursor{};  // id of the last notification of the previous page
  std::int64_t limit = 50;
  bool unread_only = false;
};

class NotificationService {
 public:
  /// A user keeps at most this many device tokens; registering another drops the stalest.
  static constexpr std::int64_t kMaxPushTokens = 20;

  NotificationService(db::Pool& db, ws::Hub& hub) : db_(db), hub_(hub) {}

  /// Stores a notification for `user_id` unless they turned `type` off, then pushes it to their
  /// open sockets as `notification.new`. Never throws: the producer's own action has already
  /// committed, and failing it would only make its client retry an action that succeeded; a lost
  /// notification is logged instead. Returns what was stored, nullopt when nothing was.
  std::optional<Notification> notify(std::int64_t user_id, Type type, const nlohmann::json& data) noexcept;

  /// Tells a channel who subscribed: the users module's SubscribedHook, wired in main.
  void notify_new_subscriber(std::int64_t channel_id, const auth::AuthUser& subscriber) noexcept;

  /// Newest first. 422 when the cursor is not one of the caller's notifications.
  Page list(const auth::AuthUser& caller, const PageRequest& request);
  /// Idempotent; 404 unless it is one of the caller's notifications.
  Notification mark_read(const auth::AuthUser& caller, const std::string& id);
  /// Returns how many were unread.
  std::int64_t mark_all_read(const auth::AuthUser& caller);

  Settings settings(const auth::AuthUser& caller);
  /// Stores the given toggles (others keep their value) and returns all of them.
  Settings update_settings(const auth::AuthUser& caller, const Settings& changes);

  /// Registers the device's push token for the caller (a token is one device: registering it
  /// again, from any account, updates that one entry). True when it was not the caller's yet.
  bool register_push_token(const auth::AuthUser& caller, const std::string& token, Platform platform);

 private:
  db::Pool& db_;
  ws::Hub& hub_;
};

}  // namespace reelhub::notifications
