#include "service.hpp"

#include "reelhub/core/error.hpp"
#include "reelhub/media/avatar.hpp"
#include "repo.hpp"

namespace reelhub::users {
namespace {

[[noreturn]] void user_not_found() { throw ApiError(ErrorCode::not_found, "User not found"); }

/// The version in the URL lets clients cache an avatar for a day yet see a new upload at once.
std::string avatar_url(std::int64_t user_id, int version) {
  return "/users/" + std::to_string(user_id) + "/avatar?v=" + std::to_string(version);
}

std::optional<std::string> avatar_url(const UserRow& row) {
  if (row.avatar_version == 0) return std::nullopt;
  return avatar_url(row.id, row.avatar_version);
}

Profile public_view(const UserRow& row) {
  return Profile{.id = row.id,
                 .username = row.username,
                 .role = row.role,
                 .display_name = row.display_name,
                 .bio = row.bio,
                 .avatar_url = avatar_url(row),
                 .subscribers_count = row.subscribers_count,
                 .created_at = row.created_at};
}

/// Only for the user themself and for admins.
Profile private_view(const UserRow& row) {
  Profile p = public_view(row);
  p.email = row.email;
  p.is_active = row.is_active;
  p.subscriptions_count = row.subscriptions_count;
  return p;
}

std::vector<Profile> public_views(const std::vector<UserRow>& rows) {
  std::vector<Profile> out;
  out.reserve(rows.size());
  for (const auto& row : rows) out.push_back(public_view(row));
  return out;
}

ProfilePage public_page(const UserRows& rows) { return ProfilePage{public_views(rows.rows), rows.total}; }

void reject_self(std::int64_t caller_id, std::int64_t target_id, const char* field, const char* message) {
  if (caller_id == target_id) {
    throw ApiError(ErrorCode::validation_failed, message, {{field, {"must not be your own user id"}}});
  }
}

}  // namespace

UsersService::UsersService(db::Pool& db, storage::ObjectStore& store, SubscribedHook on_subscribed)
    : db_(db), store_(store), on_subscribed_(std::move(on_subscribed)) {}

Profile UsersService::own_profile(const auth::AuthUser& caller) {
  auto row = db_.read([&](pqxx::nontransaction& tx) { return repo::find_user(tx, caller.id); });
  if (!row) user_not_found();
  return private_view(*row);
}

Profile UsersService::update_profile(const auth::AuthUser& caller, const ProfileChanges& changes) {
  auto row = db_.transact([&](pqxx::work& tx) {
    return repo::update_profile(tx, caller.id, changes.username, changes.display_name, changes.bio);
  });
  if (!row) user_not_found();
  return private_view(*row);
}

Profile UsersService::public_profile(std::int64_t user_id) {
  auto row = db_.read([&](pqxx::nontransaction& tx) { return repo::find_user(tx, user_id); });
  if (!row || !row->is_active) user_not_found();
  return public_view(*row);
}

ProfilePage UsersService::search(const auth::AuthUser& caller, const std::string& text, PageRequest page) {
  return public_page(db_.transact(
      [&](pqxx::work& tx) { return repo::search_users(tx, caller.id, text, page.limit, page.offset); }));
}

void UsersService::block(const auth::AuthUser& caller, std::int64_t user_id) {
  reject_self(caller.id, user_id, "user_id", "You cannot block yourself");
  db_.transact([&](pqxx::work& tx) {
    // Locking the caller's row makes a concurrent subscribe() to the caller (which share-locks
    // it) either finish before this block, and be undone below, or see the block and fail.
    if (!repo::lock_active_user(tx, caller.id, RowLock::no_key_update)) {
      throw ApiError(ErrorCode::unauthorized, "Account is not active");
    }
    // Not locked: two users blocking each other at once must not deadlock.
    if (repo::user_state(tx, user_id) != UserState::active) user_not_found();
    repo::insert_block(tx, caller.id, user_id);
    repo::delete_subscription(tx, user_id, caller.id);
  });
}

void UsersService::unblock(const auth::AuthUser& caller, std::int64_t user_id) {
  reject_self(caller.id, user_id, "user_id", "You cannot unblock yourself");
  db_.transact([&](pqxx::work& tx) {
    if (repo::user_state(tx, user_id) == UserState::missing) user_not_found();
    repo::delete_block(tx, caller.id, user_id);
  });
}

std::vector<Profile> UsersService::blocked(const auth::AuthUser& caller) {
  return public_views(db_.transact([&](pqxx::work& tx) { return repo::blocked_users(tx, caller.id); }));
}

Subscription UsersService::subscribe(const auth::AuthUser& caller, std::int64_t channel_id) {
  reject_self(caller.id, channel_id, "id", "You cannot subscribe to yourself");
  bool is_new = false;
  const Subscription subscription = db_.transact([&](pqxx::work& tx) {
    // The share lock waits for a block() of this channel in flight (see block()).
    if (!repo::lock_active_user(tx, channel_id, RowLock::share)) user_not_found();
    if (repo::is_blocked(tx, channel_id, caller.id)) {
      throw ApiError(ErrorCode::forbidden, "You cannot subscribe to a user who blocked you");
    }
    is_new = repo::insert_subscription(tx, caller.id, channel_id);
    return Subscription{channel_id, repo::count_subscribers(tx, channel_id)};
  });
  if (is_new && on_subscribed_) on_subscribed_(channel_id, caller);
  return subscription;
}

Subscription UsersService::unsubscribe(const auth::AuthUser& caller, std::int64_t channel_id) {
  reject_self(caller.id, channel_id, "id", "You cannot unsubscribe from yourself");
  return db_.transact([&](pqxx::work& tx) {
    if (repo::user_state(tx, channel_id) == UserState::missing) user_not_found();
    repo::delete_subscription(tx, caller.id, channel_id);
    return Subscription{channel_id, repo::count_subscribers(tx, channel_id)};
  });
}

ProfilePage UsersService::subscribers(std::int64_t channel_id, PageRequest page) {
  return public_page(db_.transact([&](pqxx::work& tx) {
    if (repo::user_state(tx, channel_id) != UserState::active) user_not_found();
    return repo::subscribers(tx, channel_id, page.limit, page.offset);
  }));
}

ProfilePage UsersService::list_all(const auth::AuthUser& caller, PageRequest page) {
  if (caller.role != auth::Role::admin) throw ApiError(ErrorCode::forbidden, "Admin role required");
  const auto rows = db_.transact([&](pqxx::work& tx) { return repo::list_users(tx, page.limit, page.offset); });
  ProfilePage out{.total = rows.total};
  for (const auto& row : rows.rows) out.users.push_back(private_view(row));
  return out;
}

std::string UsersService::upload_avatar(const auth::AuthUser& caller, std::string_view image) {
  const std::string jpeg = media::transcode_avatar(image);  // CPU-heavy: before the transaction
  const int version = db_.transact([&](pqxx::work& tx) {
    // The version bump locks the row, so concurrent uploads by one user replace the object in
    // version order; a failed put rolls the bump back.
    const auto bumped = repo::bump_avatar_version(tx, caller.id);
    if (!bumped) user_not_found();
    store_.put_bytes(avatar_key(caller.id), jpeg);
    return *bumped;
  });
  return avatar_url(caller.id, version);
}

std::string UsersService::avatar_key(std::int64_t user_id) { return "avatars/" + std::to_string(user_id) + ".jpg"; }

}  // namespace reelhub::users
