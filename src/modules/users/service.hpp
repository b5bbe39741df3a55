#pragma once
// Rules of the users module: who may see which profile fields, blocks, subscriptions, avatars.
// Every caller-dependent decision is made here, not in the routes.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reelhub/db/pool.hpp"
#include "reelhub/auth/identity.hpp"
#include "reelhub/storage/object_store.hpp"

#include "model.hpp"

namespace reelhub::users {

/// Fields a user changes on their own profile; nullopt keeps a field, "" clears display_name or bio.
struct ProfileChanges {
  std::optional<std::string> username;
  std::optional<std::string> display_name;
  std::optional<std::string> bio;
};

/// Called after a new subscription commits (not for a repeated subscribe), so another module
/// can react — notifications tells the channel — without this module depending on it.
using SubscribedHook = std::function<void(std::int64_t channel_id, const auth::AuthUser& subscriber)>;

class UsersService {
 public:
  /// Avatars are the objects `avatars/<user id>.jpg` of `store`.
  UsersService(db::Pool& db, storage::ObjectStore& store, SubscribedHook on_subscribed = {});

  /// The caller's own profile, private fields included.
  Profile own_profile(const auth::AuthUser& caller);
  /// Throws ApiError(conflict) when the new username is taken.
  Profile update_profile(const auth::AuthUser& caller, const ProfileChanges& changes);
  /// Public fields only, whoever asks. 404 for unknown and deactivated users.
  Profile public_profile(std::int64_t user_id);
  /// Substring match on username and display name. Hides users the caller blocked and users who
  /// blocked the caller: neither side can message or subscribe to the other, so neither is
  /// offered. Exact username first, then username prefixes, then alphabetical.
  ProfilePage search(const auth::AuthUser& caller, const std::string& text, PageRequest page);

  /// Idempotent. Also ends the blocked user's subscription to the caller.
  void block(const auth::AuthUser& caller, std::int64_t user_id);
  void unblock(const auth::AuthUser& caller, std::int64_t user_id);
  /// The caller's own block list (nobody else's is ever readable).
  std::vector<Profile> blocked(const auth::AuthUser& caller);

  /// Idempotent. 403 when the channel has blocked the caller. A new subscription runs the
  /// SubscribedHook once.
  Subscription subscribe(const auth::AuthUser& caller, std::int64_t channel_id);
  Subscription unsubscribe(const auth::AuthUser& caller, std::int64_t channel_id);
  ProfilePage subscribers(std::int64_t channel_id, PageRequest page);

  /// Every account with private fields; admins only.
  ProfilePage list_all(const auth::AuthUser& caller, PageRequest page);

  /// Re-encodes `image` (PNG or JPEG) into the caller's avatar and returns its new avatar_url.
  /// Throws ApiError(unsupported_media_type) when `image` is not a decodable PNG or JPEG.
  std::string upload_avatar(const auth::AuthUser& caller, std::string_view image);
  /// The object key of a user's avatar JPEG (it may not exist).
  static std::string avatar_key(std::int64_t user_id);

 private:
  db::Pool& db_;
  storage::ObjectStore& store_;
  SubscribedHook on_subscribed_;
};

}  // namespace reelhub::users
